-- DuckDB compares every identifier case-insensitively, quoted or not.
SELECT "orderid", ORDERID, "status" AS "Status" FROM "shop"."orders";
