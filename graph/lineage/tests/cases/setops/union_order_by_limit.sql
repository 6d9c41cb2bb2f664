-- ORDER BY after a set operation names output columns (by name or position).
SELECT customer_id AS id, email AS label FROM customers
UNION
SELECT product_id, name FROM products
ORDER BY label, 1
LIMIT 10;
