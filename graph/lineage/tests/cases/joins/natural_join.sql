SELECT * FROM orders NATURAL JOIN payments;
