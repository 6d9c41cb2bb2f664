WITH ids AS (SELECT customer_id AS id FROM customers UNION SELECT customer_id FROM orders)
SELECT id FROM ids ORDER BY id;
