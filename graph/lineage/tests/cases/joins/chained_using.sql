SELECT order_id, p.method, r.reason
FROM orders JOIN payments p USING (order_id) JOIN returns r USING (order_id);
