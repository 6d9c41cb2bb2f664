UPDATE silver.customer_dim d
SET (lifetime_value, order_count) = (SELECT SUM(o.total_amount), COUNT(*) FROM bronze.orders o WHERE o.customer_id = d.customer_id);
