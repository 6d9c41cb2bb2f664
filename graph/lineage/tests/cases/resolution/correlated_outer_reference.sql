-- total_amount is not in payments: it resolves to the outer orders.
SELECT o.order_id,
       (SELECT COUNT(*) FROM payments p WHERE p.order_id = o.order_id AND p.amount = total_amount) AS exact_payments
FROM orders o;
