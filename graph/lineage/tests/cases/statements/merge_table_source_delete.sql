MERGE INTO silver.orders_enriched t
USING bronze.orders o ON t.order_id = o.order_id
WHEN MATCHED AND o.status = 'void' THEN DELETE
WHEN MATCHED THEN UPDATE SET status = o.status, total_eur = t.total_eur + o.total_amount
WHEN NOT MATCHED THEN INSERT VALUES (o.order_id, o.customer_id, NULL, o.order_date, o.total_amount, o.status, NULL);
