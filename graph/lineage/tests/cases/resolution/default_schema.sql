SELECT order_id, amount_eur FROM orders;
SELECT amount FROM bronze.orders;
SELECT customer_id FROM customers;
