-- IDENTITY -> TRANSFORMATION -> AGGREGATION through three CTEs.
WITH base AS (SELECT customer_id, total_amount FROM orders),
     converted AS (SELECT customer_id, total_amount * 1.1 AS amount_eur FROM base),
     per_customer AS (SELECT customer_id, SUM(amount_eur) AS lifetime FROM converted GROUP BY customer_id)
SELECT pc.customer_id, pc.lifetime, pc.lifetime AS again
FROM per_customer pc;
