CREATE TABLE gold.audit (id BIGINT, note TEXT);
ALTER TABLE gold.audit ADD COLUMN created_at TIMESTAMP;
DROP TABLE gold.audit;
DELETE FROM bronze.orders WHERE status = 'void';
GRANT SELECT ON bronze.orders TO analyst;
