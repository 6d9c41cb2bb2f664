SELECT o.order_id, p.amount
FROM orders o LEFT OUTER JOIN payments p ON p.order_id = o.order_id;
