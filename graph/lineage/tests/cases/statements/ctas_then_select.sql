-- A table created earlier in the file resolves later ones.
CREATE TABLE tmp_totals AS SELECT customer_id, SUM(total_amount) AS total FROM orders GROUP BY customer_id;
SELECT t.customer_id, t.total FROM tmp_totals t;
CREATE TABLE t2 (a INT, b TEXT);
SELECT * FROM t2;
