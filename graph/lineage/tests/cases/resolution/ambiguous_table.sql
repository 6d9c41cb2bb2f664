-- Two schemas have an "orders" table and no default schema is set.
SELECT order_id FROM orders;
-- Only one table is called "customers": it matches.
SELECT customer_id FROM customers;
