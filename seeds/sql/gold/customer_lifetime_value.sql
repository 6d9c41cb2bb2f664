-- gold.customer_lifetime_value: one row per customer with order history and lifetime value.
-- Lifetime value is the customer's total net revenue in EUR over completed and shipped orders.
-- A customer is active with an order in the 90 days before the latest order day in the data,
-- and churned when their last order is more than 180 days before it. Customers are ranked by
-- lifetime value.
CREATE TABLE gold.customer_lifetime_value AS
WITH customer_orders AS (
    SELECT
        f.customer_id,
        COUNT(DISTINCT f.order_id) AS order_count,
        MIN(f.order_day) AS first_order_day,
        MAX(f.order_day) AS last_order_day,
        SUM(f.net_amount_eur) AS net_revenue_eur
    FROM silver.order_facts AS f
    WHERE f.status IN ('completed', 'shipped')
    GROUP BY f.customer_id
),
as_of AS (
    SELECT MAX(f.order_day) AS as_of_day
    FROM silver.order_facts AS f
)
SELECT
    c.customer_id,
    c.full_name,
    c.country,
    c.loyalty_tier,
    c.signup_date,
    COALESCE(co.order_count, 0) AS order_count,
    co.first_order_day,
    co.last_order_day,
    COALESCE(co.net_revenue_eur, 0) AS lifetime_value_eur,
    CASE
        WHEN co.order_count > 0 THEN co.net_revenue_eur / co.order_count
    END AS avg_order_value_eur,
    CASE
        WHEN co.last_order_day >= a.as_of_day - INTERVAL '90' DAY THEN TRUE
        ELSE FALSE
    END AS is_active_customer,
    CASE
        WHEN co.last_order_day < a.as_of_day - INTERVAL '180' DAY THEN TRUE
        ELSE FALSE
    END AS is_churned,
    RANK() OVER (ORDER BY COALESCE(co.net_revenue_eur, 0) DESC) AS value_rank
FROM silver.customers_clean AS c
LEFT JOIN customer_orders AS co ON co.customer_id = c.customer_id
CROSS JOIN as_of AS a;
