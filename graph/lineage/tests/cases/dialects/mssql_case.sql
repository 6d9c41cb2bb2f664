SELECT TOP 10 [orderid], o.[Amount] AS [Total Amount] FROM [shop].[Orders] AS o ORDER BY o.amount DESC;
