-- A later select item may use an earlier alias.
SELECT o.total_amount * 2 AS doubled, doubled + 1 AS plus_one FROM orders o;
