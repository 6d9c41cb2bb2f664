WITH paid AS (
  SELECT order_id, customer_id, total_amount FROM orders WHERE status = 'paid'
)
SELECT customer_id, total_amount FROM paid;
