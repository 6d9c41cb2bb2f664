-- ORDER BY an output alias, an ordinal and a column that is not selected.
SELECT c.email AS mail, c.country
FROM customers c
ORDER BY mail, 2, c.created_at DESC;
