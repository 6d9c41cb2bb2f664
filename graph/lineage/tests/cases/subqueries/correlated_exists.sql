SELECT o.order_id
FROM orders o
WHERE EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.order_id AND p.method = 'card')
  AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.order_id);
