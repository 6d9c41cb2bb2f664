SELECT z.order_id FROM orders o;
