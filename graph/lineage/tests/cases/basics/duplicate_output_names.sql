SELECT o.customer_id, c.customer_id FROM orders o JOIN customers c ON c.customer_id = o.customer_id;
