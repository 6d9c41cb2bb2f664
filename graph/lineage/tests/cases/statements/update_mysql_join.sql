UPDATE silver.customer_dim d JOIN bronze.customers c ON c.customer_id = d.customer_id
SET d.email = c.email, d.country = c.country
WHERE c.segment = 'vip';
