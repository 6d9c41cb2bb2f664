CREATE MATERIALIZED VIEW gold.product_sales AS
SELECT oi.product_id, SUM(oi.quantity * oi.unit_price) AS revenue
FROM order_items oi GROUP BY oi.product_id;
