SELECT order_id FROM orders;

SELECT customer_id,
  FROM customers WHERE;

SELECT email FROM customers;
SELECT 'unterminated FROM orders;
