-- ANSI folds unquoted names to upper case; quoted ones are case-sensitive.
SELECT orderid AS order_key, "orderid" FROM shop.orders;
