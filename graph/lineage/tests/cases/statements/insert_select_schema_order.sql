-- Without a column list the target's schema order is used.
INSERT INTO gold.daily_sales
SELECT order_date, 'DE', COUNT(*), SUM(total_amount) FROM orders GROUP BY order_date;
