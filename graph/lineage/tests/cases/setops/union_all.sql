-- Columns are aligned by position; names come from the first SELECT.
SELECT order_id AS id, total_amount AS amount FROM orders
UNION ALL
SELECT payment_id, amount FROM payments
UNION ALL
SELECT return_id, quantity * 1.0 FROM returns;
