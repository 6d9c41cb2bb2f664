SELECT * FROM (SELECT country, segment, customer_id FROM bronze.customers)
PIVOT (COUNT(customer_id) FOR segment IN ('vip', 'standard')) AS p;
