INSERT INTO gold.daily_sales (sales_date, country, revenue, order_count)
SELECT o.order_date, c.country, SUM(o.total_amount), COUNT(DISTINCT o.order_id)
FROM orders o JOIN customers c ON c.customer_id = o.customer_id
GROUP BY o.order_date, c.country;
