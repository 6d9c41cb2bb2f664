UPDATE bronze.orders SET status = 'closed', total_amount = total_amount * 1.1 WHERE order_date < '2020-01-01';
