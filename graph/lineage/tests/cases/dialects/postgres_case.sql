-- Unquoted names fold to lower case and then must match exactly.
SELECT "OrderID", orderid FROM shop."Orders";
SELECT amount, "STATUS", status FROM "Orders";
SELECT c.email, c."Email" FROM customers c;
SELECT Customer_ID AS "CustID", Customer_ID AS CustID FROM Customers;
SELECT * FROM orders;
