SELECT p.product_id FROM products p
WHERE p.list_price > ALL (SELECT oi.unit_price FROM order_items oi WHERE oi.product_id = p.product_id);
