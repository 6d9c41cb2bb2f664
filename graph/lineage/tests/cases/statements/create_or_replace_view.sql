CREATE OR REPLACE VIEW silver.v_orders COPY GRANTS AS
SELECT order_id, total_amount FROM bronze.orders;
