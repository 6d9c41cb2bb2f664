/* a; block; comment */
SELECT 'a;b' AS semi, "status" FROM orders; -- trailing; comment
SELECT $$ not; a; statement $$ AS body, $tag$ ; $tag$ AS tagged FROM orders;
-- only a comment; here
SELECT E'it\'s;' AS esc FROM orders
