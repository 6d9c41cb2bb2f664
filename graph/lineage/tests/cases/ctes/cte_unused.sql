-- The unused CTE's filter does not reach the dataset sources; its unknown
-- column is still reported.
WITH unused AS (SELECT order_id FROM orders WHERE status = 'x' AND nope = 1),
     used AS (SELECT customer_id FROM customers WHERE country = 'DE')
SELECT customer_id FROM used;
