-- silver.orders_clean: one row per order from bronze.orders.
-- Duplicate order_id records are collapsed (the most advanced status wins, then the latest
-- timestamp), status values are standardised to lower case ('complete' becomes 'completed'),
-- and rows that cannot be real orders (non-positive quantity, order dates in the future) are
-- dropped. Adds the gross amount (quantity x unit price) and net amount (gross minus discount).
CREATE TABLE silver.orders_clean AS
WITH typed AS (
    SELECT
        o.order_id,
        o.customer_id,
        o.order_date,
        CASE
            WHEN LOWER(TRIM(o.status)) IN ('complete', 'completed') THEN 'completed'
            ELSE LOWER(TRIM(o.status))
        END AS status,
        UPPER(TRIM(o.region)) AS region,
        o.product_id,
        o.quantity,
        o.unit_price,
        COALESCE(o.discount_amount, 0) AS discount_amount,
        COALESCE(o.tax_amount, 0) AS tax_amount,
        o.total_amount,
        UPPER(o.currency) AS currency,
        LOWER(o.payment_method) AS payment_method,
        UPPER(TRIM(o.shipping_country)) AS shipping_country
    FROM bronze.orders AS o
    WHERE o.order_id IS NOT NULL
),
ranked AS (
    SELECT
        t.order_id,
        t.customer_id,
        t.order_date,
        t.status,
        t.region,
        t.product_id,
        t.quantity,
        t.unit_price,
        t.discount_amount,
        t.tax_amount,
        t.total_amount,
        t.currency,
        t.payment_method,
        t.shipping_country,
        ROW_NUMBER() OVER (
            PARTITION BY t.order_id
            ORDER BY
                CASE t.status
                    WHEN 'returned' THEN 5
                    WHEN 'completed' THEN 4
                    WHEN 'shipped' THEN 3
                    WHEN 'cancelled' THEN 2
                    ELSE 1
                END DESC,
                t.order_date DESC
        ) AS record_rank
    FROM typed AS t
)
SELECT
    r.order_id,
    r.customer_id,
    r.order_date AS order_ts,
    CAST(r.order_date AS DATE) AS order_day,
    r.status,
    r.region,
    r.product_id,
    r.quantity,
    r.unit_price,
    r.discount_amount,
    r.tax_amount,
    r.total_amount,
    r.quantity * r.unit_price AS gross_amount,
    r.quantity * r.unit_price - r.discount_amount AS net_amount,
    r.currency,
    r.payment_method,
    r.shipping_country
FROM ranked AS r
WHERE r.record_rank = 1
  AND r.quantity > 0
  AND r.order_date <= CURRENT_TIMESTAMP;
