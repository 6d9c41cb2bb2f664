-- Quoted and unquoted names compare case-insensitively; names not in the
-- schema fold to lower case, quoted or not.
SELECT "orderid", OrderId AS "OrderKey", amount AS Total FROM shop.orders;
