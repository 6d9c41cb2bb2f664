SELECT o.order_id, p.method
FROM orders o JOIN (payments p JOIN returns r ON r.order_id = p.order_id) ON p.order_id = o.order_id;
