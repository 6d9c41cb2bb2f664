-- A small shop schema in PostgreSQL.
CREATE TABLE sales.customers (
    customer_id bigint PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    country     char(2) CHECK (country <> ''),
    created_at  timestamp
);
COMMENT ON TABLE sales.customers IS 'People who bought something';
COMMENT ON COLUMN sales.customers.email IS 'Where receipts go';

CREATE TABLE sales.orders (
    order_id    bigint NOT NULL,
    customer_id bigint NOT NULL REFERENCES sales.customers (customer_id),
    status      text NOT NULL,
    amount      numeric(12,2),
    CONSTRAINT orders_pk PRIMARY KEY (order_id),
    CONSTRAINT amount_positive CHECK (amount >= 0)
);
ALTER TABLE sales.orders ADD CONSTRAINT orders_status_unique UNIQUE (order_id, status);

CREATE VIEW sales.revenue_by_country AS
SELECT c.country, SUM(o.amount) AS revenue, COUNT(*) AS orders
FROM sales.orders o JOIN sales.customers c ON c.customer_id = o.customer_id
WHERE o.status = 'completed'
GROUP BY c.country;
