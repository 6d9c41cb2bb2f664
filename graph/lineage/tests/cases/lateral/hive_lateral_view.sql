SELECT p.sku, t.tag FROM bronze.products p LATERAL VIEW explode(p.tags) t AS tag;
