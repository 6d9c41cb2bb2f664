-- Unquoted names compare case-insensitively, quoted ones exactly.
SELECT orderid, "OrderID", "orderid" FROM shop.orders;
