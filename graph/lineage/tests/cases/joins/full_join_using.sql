-- A FULL JOIN's USING column is COALESCE(left, right): TRANSFORMATION of both.
SELECT order_id, p.amount, r.reason
FROM payments p FULL OUTER JOIN returns r USING (order_id);
