-- Multi-table INSERT is reported as not analysed; the next statement still is.
INSERT ALL INTO gold.daily_sales (sales_date) VALUES (d) SELECT order_date AS d FROM bronze.orders;
INSERT INTO gold.daily_sales (sales_date) SELECT order_date FROM bronze.orders;
