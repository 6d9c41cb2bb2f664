SELECT
  oi.quantity * oi.unit_price AS line_total,
  CAST(oi.discount AS DOUBLE) AS discount_rate,
  upper(p.name) AS product_name,
  coalesce(p.sku, 'n/a') AS sku,
  42 AS answer,
  'EUR' AS currency
FROM order_items oi JOIN products p ON p.product_id = oi.product_id;
