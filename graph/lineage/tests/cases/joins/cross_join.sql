SELECT c.email, p.sku FROM customers c CROSS JOIN products p;
