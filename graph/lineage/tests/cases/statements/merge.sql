MERGE INTO silver.customer_dim AS t
USING (
  SELECT c.customer_id, c.email, c.first_name || ' ' || c.last_name AS full_name, c.country
  FROM customers c
) AS s
ON t.customer_id = s.customer_id
WHEN MATCHED AND s.email <> t.email THEN
  UPDATE SET email = s.email, full_name = s.full_name, updated_at = CURRENT_TIMESTAMP
WHEN NOT MATCHED THEN
  INSERT (customer_id, email, full_name, country) VALUES (s.customer_id, s.email, s.full_name, s.country);
