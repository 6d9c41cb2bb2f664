SELECT
  o.order_id,
  ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.order_date DESC) AS recency_rank,
  SUM(o.total_amount) OVER (PARTITION BY o.customer_id ORDER BY o.order_date
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_total,
  LAG(o.total_amount, 1) OVER w AS previous_amount,
  FIRST_VALUE(o.status) OVER w AS first_status
FROM orders o
WINDOW w AS (PARTITION BY o.customer_id ORDER BY o.order_date);
