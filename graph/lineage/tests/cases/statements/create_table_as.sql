CREATE TABLE gold.vip_customers AS
SELECT customer_id, email, first_name || ' ' || last_name AS full_name
FROM customers WHERE segment = 'vip';
