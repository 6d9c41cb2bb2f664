SELECT date_trunc('month', o.order_date) AS month, o.currency AS cur, SUM(o.total_amount) AS total
FROM orders o
GROUP BY 1, cur;
