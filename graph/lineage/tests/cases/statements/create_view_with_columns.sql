CREATE VIEW gold.customer_contacts (id, contact) AS
SELECT customer_id, lower(email) FROM customers;
