SELECT order_id, status FROM orders UNION SELECT payment_id FROM payments;
