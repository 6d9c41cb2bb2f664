WITH t AS (SELECT category_id, upper(name) AS label FROM categories)
SELECT * FROM t;
