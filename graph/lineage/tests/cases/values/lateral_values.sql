-- VALUES rows may refer to earlier FROM items (LATERAL): a column's sources
-- are those of every row in its position.
SELECT o.order_id, t.amount
FROM orders o, LATERAL (VALUES (o.total_amount), (o.total_amount * 2)) AS t(amount);
