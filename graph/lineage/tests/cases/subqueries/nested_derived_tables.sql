SELECT z.amount
FROM (SELECT y.amount FROM (SELECT x.total_amount AS amount FROM (SELECT total_amount FROM orders) x) y) z;
