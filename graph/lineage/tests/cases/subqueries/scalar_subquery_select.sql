SELECT
  c.email,
  (SELECT MAX(o.total_amount) FROM orders o WHERE o.customer_id = c.customer_id) AS biggest_order,
  (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.customer_id AND o.status = 'paid') AS paid_orders
FROM customers c;
