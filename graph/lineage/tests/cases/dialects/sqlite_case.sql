SELECT "orderid", [amount], `status` FROM "Orders";
