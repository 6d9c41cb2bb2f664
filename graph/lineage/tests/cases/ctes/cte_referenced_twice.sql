WITH o AS (SELECT order_id, customer_id, total_amount FROM orders WHERE status = 'paid')
SELECT a.order_id, b.total_amount
FROM o a JOIN o b ON a.customer_id = b.customer_id;
