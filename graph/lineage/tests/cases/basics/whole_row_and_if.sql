-- IF(cond, a, b): the condition is CONDITIONAL, the branches TRANSFORMATION.
SELECT IF(o.total_amount > 100, o.total_amount, 0) AS big_amount, to_json(o) AS doc
FROM orders o;
