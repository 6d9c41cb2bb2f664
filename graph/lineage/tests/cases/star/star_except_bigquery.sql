SELECT * EXCEPT (email, first_name, last_name) FROM bronze.customers;
