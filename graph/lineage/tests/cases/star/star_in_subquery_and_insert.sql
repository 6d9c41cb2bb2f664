INSERT INTO silver.customer_dim
SELECT * FROM (SELECT customer_id, email, first_name, country, 0, 0, created_at FROM customers) s;
