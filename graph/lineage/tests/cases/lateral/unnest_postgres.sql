SELECT p.sku, t.tag, t.n FROM products p, unnest(p.tags) WITH ORDINALITY AS t(tag, n);
SELECT u FROM products p, unnest(p.tags) u;
