-- Columns are case-insensitive; tables are case-sensitive.
SELECT `orderid`, o.Amount FROM shop.Orders o;
SELECT orderid FROM shop.orders;
