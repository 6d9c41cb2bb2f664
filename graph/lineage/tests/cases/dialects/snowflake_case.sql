-- Unquoted names fold to upper case and compare case-insensitively; they are
-- reported as the schema spells them. Quoted names must match exactly.
SELECT order_id, "AMOUNT", "amount", status AS state FROM shop.orders;
SELECT id FROM shop.lower_case;
SELECT "id" FROM shop."lower_case";
SELECT "ID" FROM shop."LOWER_CASE";
