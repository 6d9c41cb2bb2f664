SELECT c.customer_id, c.email
FROM customers c
WHERE c.customer_id IN (SELECT o.customer_id FROM orders o WHERE o.total_amount > 500)
  AND c.country NOT IN (SELECT a.country FROM addresses a WHERE a.city = 'Berlin');
