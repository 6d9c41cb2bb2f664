SELECT d.a, d.b FROM (SELECT order_id, total_amount FROM orders) AS d(a, b);
