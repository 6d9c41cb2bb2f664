SELECT
  o.customer_id,
  COUNT(*) AS n_orders,
  COUNT(DISTINCT o.status) AS n_statuses,
  SUM(o.total_amount) AS revenue,
  AVG(o.total_amount) * 100 AS avg_cents,
  MAX(o.order_date) AS last_order
FROM orders o
GROUP BY o.customer_id
HAVING SUM(o.total_amount) > 1000;
