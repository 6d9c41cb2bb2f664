SELECT p.sku, tag, pos FROM bronze.products p CROSS JOIN UNNEST(p.tags) AS tag WITH OFFSET AS pos;
