INSERT INTO gold.product_ranking (product_id, category, units_sold, rank_in_category)
WITH units AS (
  SELECT oi.product_id, SUM(oi.quantity) AS units FROM order_items oi GROUP BY oi.product_id
)
SELECT p.product_id, cat.name, u.units,
       RANK() OVER (PARTITION BY cat.name ORDER BY u.units DESC)
FROM units u JOIN products p ON p.product_id = u.product_id
JOIN categories cat ON cat.category_id = p.category_id;
