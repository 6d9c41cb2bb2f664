-- order_id is merged by USING, but a third FROM item has it too.
SELECT order_id FROM orders JOIN payments USING (order_id) JOIN returns r ON r.return_id = payments.payment_id;
