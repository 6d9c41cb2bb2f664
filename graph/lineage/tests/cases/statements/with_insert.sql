-- A WITH clause in front of INSERT / UPDATE.
WITH totals AS (SELECT customer_id, SUM(total_amount) AS total FROM orders WHERE status = 'paid' GROUP BY customer_id)
INSERT INTO silver.customer_dim (customer_id, lifetime_value)
SELECT customer_id, total FROM totals;
WITH latest AS (SELECT customer_id, MAX(order_date) AS last_date FROM orders GROUP BY customer_id)
UPDATE silver.customer_dim d SET updated_at = l.last_date FROM latest l WHERE l.customer_id = d.customer_id;
