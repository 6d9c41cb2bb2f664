SELECT c.email, x.total_amount
FROM bronze.customers c
CROSS APPLY (SELECT TOP 1 o.total_amount FROM bronze.orders o WHERE o.customer_id = c.customer_id ORDER BY o.order_date DESC) x;
