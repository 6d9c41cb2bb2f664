SELECT t.customer_id, t.total * 2 AS double_total
FROM (SELECT customer_id, SUM(total_amount) AS total FROM orders WHERE status <> 'void' GROUP BY customer_id) AS t
WHERE t.total > 10;
