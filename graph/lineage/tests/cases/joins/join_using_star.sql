-- The USING column appears once in *.
SELECT * FROM payments JOIN returns USING (order_id);
