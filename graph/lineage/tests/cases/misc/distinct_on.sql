SELECT DISTINCT ON (o.customer_id) o.customer_id, o.order_id FROM orders o ORDER BY o.customer_id, o.order_date DESC;
