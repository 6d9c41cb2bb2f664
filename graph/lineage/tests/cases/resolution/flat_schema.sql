SELECT orders.order_id, amount FROM orders;
SELECT o.order_id FROM shop.orders o;
