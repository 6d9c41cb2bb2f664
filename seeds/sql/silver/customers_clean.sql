-- silver.customers_clean: one row per real customer from bronze.customers.
-- Names are trimmed, emails trimmed and lower-cased, country codes standardised to
-- ISO 3166-1 alpha-2 ('UK' becomes 'GB', lower case is upper-cased) and loyalty tiers
-- lower-cased. Duplicate registrations with the same email are collapsed to the earliest
-- signup; customers without an email are kept as they are.
CREATE TABLE silver.customers_clean AS
WITH standardised AS (
    SELECT
        c.customer_id,
        TRIM(c.first_name) AS first_name,
        TRIM(c.last_name) AS last_name,
        LOWER(TRIM(c.email)) AS email,
        TRIM(c.phone) AS phone,
        c.street_address,
        c.city,
        c.postal_code,
        CASE UPPER(TRIM(c.country))
            WHEN 'UK' THEN 'GB'
            ELSE UPPER(TRIM(c.country))
        END AS country,
        c.date_of_birth,
        c.signup_date,
        LOWER(TRIM(c.loyalty_tier)) AS loyalty_tier,
        c.marketing_opt_in
    FROM bronze.customers AS c
    WHERE c.customer_id IS NOT NULL
),
deduplicated AS (
    SELECT
        s.customer_id,
        s.first_name,
        s.last_name,
        s.email,
        s.phone,
        s.street_address,
        s.city,
        s.postal_code,
        s.country,
        s.date_of_birth,
        s.signup_date,
        s.loyalty_tier,
        s.marketing_opt_in,
        ROW_NUMBER() OVER (
            PARTITION BY COALESCE(s.email, CAST(s.customer_id AS VARCHAR))
            ORDER BY s.signup_date, s.customer_id
        ) AS duplicate_rank
    FROM standardised AS s
)
SELECT
    d.customer_id,
    d.first_name,
    d.last_name,
    d.first_name || ' ' || d.last_name AS full_name,
    d.email,
    d.phone,
    d.street_address,
    d.city,
    d.postal_code,
    d.country,
    d.date_of_birth,
    d.signup_date,
    d.loyalty_tier,
    d.marketing_opt_in
FROM deduplicated AS d
WHERE d.duplicate_rank = 1;
