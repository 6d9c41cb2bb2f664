-- Unaliased expressions are named by their SQL text.
SELECT o.order_id + 1, lower(o.status), COUNT(*) FROM orders o GROUP BY o.order_id, o.status;
