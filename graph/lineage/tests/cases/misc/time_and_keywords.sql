-- Date parts and niladic functions are not columns.
SELECT DATEADD(day, 7, o.order_date) AS due, DATEDIFF(month, o.order_date, CURRENT_DATE) AS age, EXTRACT(year FROM o.order_date) AS y
FROM bronze.orders o;
