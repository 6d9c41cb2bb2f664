SELECT p.sku, f.value::string AS tag, f.index AS pos
FROM bronze.products p, LATERAL FLATTEN(input => p.tags) f;
