SELECT o.order_id, c.email
FROM orders o INNER JOIN customers c ON c.customer_id = o.customer_id AND c.country = 'DE';
