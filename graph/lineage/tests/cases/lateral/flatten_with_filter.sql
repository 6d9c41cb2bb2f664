-- A filter on the flattened value reaches the array column.
SELECT p.product_id, f.value AS tag
FROM bronze.products p, LATERAL FLATTEN(input => p.tags) f
WHERE f.value::string LIKE 'eco%' AND p.list_price > 10;
