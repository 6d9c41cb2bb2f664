SELECT transform(p.tags, t -> upper(t)) AS upper_tags, filter(p.tags, x -> x <> p.sku) AS other_tags
FROM bronze.products p;
