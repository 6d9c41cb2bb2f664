SELECT * EXCLUDE (created_at, segment) FROM customers;
SELECT * REPLACE (lower(email) AS email) FROM customers;
SELECT * RENAME (email AS contact_email) FROM customers WHERE country = 'FR';
