SELECT o.order_id, c.email FROM orders o, customers c WHERE o.customer_id = c.customer_id;
