SELECT amount FROM orders;
SELECT amount FROM bronze.orders;
SELECT legacy_amount FROM archive.bronze.orders;
SELECT o.order_id FROM shop.bronze.orders o WHERE shop.bronze.o.amount > 0;
CREATE TABLE gold_totals AS SELECT SUM(amount) AS total FROM orders;
