SELECT * FROM gold.daily_sales UNPIVOT (val FOR metric IN (order_count, revenue));
