SELECT
    CAST(DATE_TRUNC('day', o.order_date) AS DATE) AS order_day,
    o.region AS region,
    COALESCE(p.category, 'Unknown') AS category,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
  AND (LOWER(TRIM(o.status)) IN ('completed', 'complete'))
GROUP BY CAST(DATE_TRUNC('day', o.order_date) AS DATE), o.region, COALESCE(p.category, 'Unknown')
ORDER BY order_day, region, category
