SELECT
  o.order_id,
  (SELECT SUM(oi.quantity * p.list_price)
     FROM order_items oi JOIN products p ON p.product_id = oi.product_id
    WHERE oi.order_id = o.order_id) AS list_value
FROM orders o;
