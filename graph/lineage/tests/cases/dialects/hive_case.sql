-- Hive folds every name it reports to lower case.
SELECT OrderID AS MyKey, `Amount` FROM shop.orders;
