INSERT INTO gold.daily_sales (sales_date, revenue) SELECT order_date FROM orders;
INSERT INTO gold.daily_sales (sales_date, nonexistent) SELECT order_date, total_amount FROM orders;
