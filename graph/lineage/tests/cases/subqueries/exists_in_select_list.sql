SELECT o.order_id, EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.order_id) AS was_returned
FROM orders o;
