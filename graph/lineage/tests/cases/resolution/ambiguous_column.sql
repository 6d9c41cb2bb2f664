SELECT order_id FROM orders o JOIN payments p ON p.order_id = o.order_id;
