SELECT order_id, status FROM orders UNION BY NAME SELECT status, order_id FROM orders;
