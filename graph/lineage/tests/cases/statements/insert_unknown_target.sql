INSERT INTO reporting.export SELECT customer_id, email FROM customers;
