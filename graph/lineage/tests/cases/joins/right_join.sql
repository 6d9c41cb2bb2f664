SELECT o.order_id, r.reason
FROM orders o RIGHT JOIN returns r ON r.order_id = o.order_id;
