SELECT c.*, o.order_id FROM customers c JOIN orders o ON o.customer_id = c.customer_id;
