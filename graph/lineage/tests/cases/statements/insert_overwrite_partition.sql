-- A static partition value is a constant; the query fills the other columns.
INSERT OVERWRITE TABLE gold.daily_sales PARTITION (country = 'DE')
SELECT order_date, COUNT(*), SUM(total_amount) FROM bronze.orders GROUP BY order_date;
