SELECT o.order_id, o.total_amount INTO gold.big_orders FROM bronze.orders o WHERE o.total_amount > 1000;
