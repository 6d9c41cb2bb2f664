SELECT o.customer_id, o.status, SUM(o.total_amount) AS total FROM orders o GROUP BY ALL;
