-- "spark" selects the Databricks rules.
SELECT `OrderId`, amount AS Total FROM shop.orders WHERE `STATUS` = 'x';
