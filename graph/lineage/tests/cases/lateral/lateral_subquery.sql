SELECT c.email, last.order_date, last.total_amount
FROM customers c
LEFT JOIN LATERAL (
  SELECT o.order_date, o.total_amount FROM orders o
  WHERE o.customer_id = c.customer_id ORDER BY o.order_date DESC LIMIT 1
) last ON true;
