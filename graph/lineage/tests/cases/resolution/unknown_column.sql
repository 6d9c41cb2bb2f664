SELECT o.order_id, o.nope, missing_col FROM orders o;
