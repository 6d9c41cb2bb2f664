-- A LEFT JOIN's USING column is the left one.
SELECT customer_id, a.city FROM customers LEFT JOIN addresses a USING (customer_id);
