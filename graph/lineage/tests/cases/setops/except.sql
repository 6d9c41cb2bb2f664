-- The right side of EXCEPT only removes rows: a dataset-level FILTER.
SELECT order_id FROM orders EXCEPT SELECT order_id FROM returns WHERE reason = 'damaged';
