WITH totals(cid, amount) AS (SELECT customer_id, total_amount FROM orders)
SELECT cid, amount FROM totals;
