SELECT p.product_id, p.name
FROM products p
WHERE p.list_price BETWEEN 10 AND 100
  AND (p.name LIKE 'A%' OR p.category_id IN (1, 2, 3))
  AND p.sku IS NOT NULL;
