-- Bare references and aliases are IDENTITY; names come from the schema.
SELECT o.order_id, o.status AS order_status, customer_id
FROM bronze.orders o;
