SELECT
  COUNT(*) FILTER (WHERE o.status = 'paid') AS paid_orders,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY o.total_amount) AS median_amount,
  string_agg(o.status, ',' ORDER BY o.order_date) AS statuses
FROM orders o;
