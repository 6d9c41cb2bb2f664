-- The recursive member swaps a and b: both end up with both sources.
WITH RECURSIVE s(a, b, k) AS (
  SELECT customer_id, order_id, 0 FROM orders
  UNION ALL
  SELECT b, a, k + 1 FROM s WHERE k < 3
)
SELECT a, b FROM s;
