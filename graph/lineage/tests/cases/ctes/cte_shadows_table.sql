-- A CTE named like a schema table hides it.
WITH customers AS (SELECT customer_id, email AS contact FROM bronze.customers)
SELECT contact FROM customers;
