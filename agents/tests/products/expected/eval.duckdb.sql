-- daily net revenue by region and category for completed orders
-- status: ready
SELECT
    CAST(DATE_TRUNC('day', o.order_date) AS DATE) AS order_day,
    o.region AS region,
    COALESCE(p.category, 'Unknown') AS category,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
  AND (LOWER(TRIM(o.status)) IN ('completed', 'complete'))
GROUP BY CAST(DATE_TRUNC('day', o.order_date) AS DATE), o.region, COALESCE(p.category, 'Unknown')
ORDER BY order_day, region, category;

-- monthly gross revenue by region
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', o.order_date) AS DATE) AS order_month,
    o.region AS region,
    CAST(SUM(o.quantity * o.unit_price * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS gross_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped', 'returned'))
GROUP BY CAST(DATE_TRUNC('month', o.order_date) AS DATE), o.region
ORDER BY order_month, region;

-- number of orders by payment method
-- status: ready
SELECT
    o.payment_method AS payment_method,
    CAST(COUNT(DISTINCT o.order_id) AS BIGINT) AS order_count
FROM bronze.orders AS o
GROUP BY o.payment_method
ORDER BY payment_method;

-- net revenue by country
-- status: ready
SELECT
    o.shipping_country AS shipping_country,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY o.shipping_country
ORDER BY shipping_country;

-- average order value by region
-- status: ready
SELECT
    o.region AS region,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) / COUNT(DISTINCT o.order_id) AS DOUBLE) AS average_order_value
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY o.region
ORDER BY region;

-- gross margin by product category
-- status: ready
SELECT
    COALESCE(p.category, 'Unknown') AS category,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0) - o.quantity * p.unit_cost) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS gross_margin
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY COALESCE(p.category, 'Unknown')
ORDER BY category;

-- units sold by brand
-- status: ready
SELECT
    COALESCE(p.brand, 'Unknown') AS brand,
    CAST(SUM(o.quantity) AS BIGINT) AS quantity
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY COALESCE(p.brand, 'Unknown')
ORDER BY brand;

-- total discount by month
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', o.order_date) AS DATE) AS order_month,
    CAST(SUM(COALESCE(o.discount_amount, 0) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS discount
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY CAST(DATE_TRUNC('month', o.order_date) AS DATE)
ORDER BY order_month;

-- tax by region in 2024
-- status: ready
SELECT
    o.region AS region,
    CAST(SUM(COALESCE(o.tax_amount, 0) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS tax
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
  AND (CAST(o.order_date AS DATE) >= DATE '2024-01-01' AND CAST(o.order_date AS DATE) < DATE '2025-01-01')
GROUP BY o.region
ORDER BY region;

-- number of customers by loyalty tier
-- status: ready
SELECT
    c.loyalty_tier AS loyalty_tier,
    CAST(COUNT(DISTINCT c.customer_id) AS BIGINT) AS customer_count
FROM bronze.customers AS c
GROUP BY c.loyalty_tier
ORDER BY loyalty_tier;

-- how many customers per country
-- status: ready
SELECT
    c.country AS country,
    CAST(COUNT(DISTINCT c.customer_id) AS BIGINT) AS customer_count
FROM bronze.customers AS c
GROUP BY c.country
ORDER BY country;

-- campaign budget by channel
-- status: ready
SELECT
    m.channel AS channel,
    CAST(SUM(m.budget) AS DECIMAL(18,2)) AS campaign_budget
FROM bronze.marketing_campaigns AS m
GROUP BY m.channel
ORDER BY channel;

-- clicks by campaign
-- status: ready
SELECT
    m.campaign_id AS campaign_id,
    CAST(COUNT(*) AS BIGINT) AS click_count
FROM bronze.marketing_events AS m
WHERE (m.event_type = 'click')
GROUP BY m.campaign_id
ORDER BY campaign_id;

-- clicks by campaign name
-- status: ready
SELECT
    COALESCE(m2.campaign_name, 'Unknown') AS campaign_name,
    CAST(COUNT(*) AS BIGINT) AS click_count
FROM bronze.marketing_events AS m
LEFT JOIN bronze.marketing_campaigns AS m2 ON m2.campaign_id = m.campaign_id
WHERE (m.event_type = 'click')
GROUP BY COALESCE(m2.campaign_name, 'Unknown')
ORDER BY campaign_name;

-- click-through rate by device
-- status: ready
SELECT
    m.device AS device,
    CAST(CAST(SUM(CASE WHEN m.event_type = 'click' THEN 1 ELSE 0 END) AS DOUBLE) / NULLIF(SUM(CASE WHEN m.event_type = 'impression' THEN 1 ELSE 0 END), 0) AS DOUBLE) AS click_through_rate
FROM bronze.marketing_events AS m
GROUP BY m.device
ORDER BY device;

-- impressions per month
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', m.event_time) AS DATE) AS event_month,
    CAST(COUNT(*) AS BIGINT) AS impression_count
FROM bronze.marketing_events AS m
WHERE (m.event_type = 'impression')
GROUP BY CAST(DATE_TRUNC('month', m.event_time) AS DATE)
ORDER BY event_month;

-- number of support tickets by priority
-- status: ready
SELECT
    s.priority AS priority,
    CAST(COUNT(DISTINCT s.ticket_id) AS BIGINT) AS support_ticket_count
FROM bronze.support_tickets AS s
GROUP BY s.priority
ORDER BY priority;

-- average satisfaction score by support channel
-- status: ready
SELECT
    s.channel AS channel,
    CAST(AVG(CASE WHEN s.satisfaction_score BETWEEN 1 AND 5 THEN s.satisfaction_score END) AS DOUBLE) AS customer_satisfaction_score
FROM bronze.support_tickets AS s
GROUP BY s.channel
ORDER BY channel;

-- tickets per day
-- status: ready
SELECT
    CAST(DATE_TRUNC('day', s.created_at) AS DATE) AS created_day,
    CAST(COUNT(DISTINCT s.ticket_id) AS BIGINT) AS support_ticket_count
FROM bronze.support_tickets AS s
GROUP BY CAST(DATE_TRUNC('day', s.created_at) AS DATE)
ORDER BY created_day;

-- web sessions by month
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', u.event_time) AS DATE) AS event_month,
    CAST(COUNT(DISTINCT u.session_id) AS BIGINT) AS web_session_count
FROM bronze.user_interactions AS u
GROUP BY CAST(DATE_TRUNC('month', u.event_time) AS DATE)
ORDER BY event_month;

-- number of user interactions by action
-- status: ready
SELECT
    u.action AS action,
    CAST(COUNT(*) AS BIGINT) AS user_interaction_count
FROM bronze.user_interactions AS u
GROUP BY u.action
ORDER BY action;

-- net revenue by loyalty tier
-- status: ready
SELECT
    COALESCE(c.loyalty_tier, 'Unknown') AS loyalty_tier,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
LEFT JOIN bronze.customers AS c ON c.customer_id = o.customer_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY COALESCE(c.loyalty_tier, 'Unknown')
ORDER BY loyalty_tier;

-- gross revenue by category and subcategory
-- status: ready
SELECT
    COALESCE(p.category, 'Unknown') AS category,
    COALESCE(p.subcategory, 'Unknown') AS subcategory,
    CAST(SUM(o.quantity * o.unit_price * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS gross_revenue
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped', 'returned'))
GROUP BY COALESCE(p.category, 'Unknown'), COALESCE(p.subcategory, 'Unknown')
ORDER BY category, subcategory;

-- number of orders by status
-- status: ready
SELECT
    o.status AS status,
    CAST(COUNT(DISTINCT o.order_id) AS BIGINT) AS order_count
FROM bronze.orders AS o
GROUP BY o.status
ORDER BY status;

-- top 10 products by net revenue
-- status: ready
SELECT
    COALESCE(p.product_name, 'Unknown') AS product_name,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY COALESCE(p.product_name, 'Unknown')
ORDER BY net_revenue DESC, product_name
LIMIT 10;

-- quarterly net revenue
-- status: ready
SELECT
    CAST(DATE_TRUNC('quarter', o.order_date) AS DATE) AS order_quarter,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY CAST(DATE_TRUNC('quarter', o.order_date) AS DATE)
ORDER BY order_quarter;

-- net revenue by region for March 2024
-- status: ready
SELECT
    o.region AS region,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
  AND (CAST(o.order_date AS DATE) >= DATE '2024-03-01' AND CAST(o.order_date AS DATE) < DATE '2024-04-01')
GROUP BY o.region
ORDER BY region;

-- order total by currency
-- status: ready
SELECT
    o.currency AS currency,
    CAST(SUM(o.total_amount * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS order_total
FROM bronze.orders AS o
GROUP BY o.currency
ORDER BY currency;

-- number of orders by region for cancelled orders
-- status: ready
SELECT
    o.region AS region,
    CAST(COUNT(DISTINCT o.order_id) AS BIGINT) AS order_count
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) = 'cancelled')
GROUP BY o.region
ORDER BY region;

-- returned orders by month
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', o.order_date) AS DATE) AS order_month,
    CAST(COUNT(DISTINCT o.order_id) AS BIGINT) AS order_count
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) = 'returned')
GROUP BY CAST(DATE_TRUNC('month', o.order_date) AS DATE)
ORDER BY order_month;

-- monthly net revenue in EMEA
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', o.order_date) AS DATE) AS order_month,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
  AND (o.region = 'EMEA')
GROUP BY CAST(DATE_TRUNC('month', o.order_date) AS DATE)
ORDER BY order_month;

-- units sold for electronics by region
-- status: ready
SELECT
    o.region AS region,
    CAST(SUM(o.quantity) AS BIGINT) AS quantity
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
  AND (p.category = 'Electronics')
GROUP BY o.region
ORDER BY region;

-- gross revenue by payment method in 2023
-- status: ready
SELECT
    o.payment_method AS payment_method,
    CAST(SUM(o.quantity * o.unit_price * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS gross_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped', 'returned'))
  AND (CAST(o.order_date AS DATE) >= DATE '2023-01-01' AND CAST(o.order_date AS DATE) < DATE '2024-01-01')
GROUP BY o.payment_method
ORDER BY payment_method;

-- budget by target segment
-- status: ready
SELECT
    m.target_segment AS target_segment,
    CAST(SUM(m.budget) AS DECIMAL(18,2)) AS campaign_budget
FROM bronze.marketing_campaigns AS m
GROUP BY m.target_segment
ORDER BY target_segment;

-- conversion rate by campaign
-- status: ready
SELECT
    m.campaign_id AS campaign_id,
    CAST(CAST(SUM(CASE WHEN m.event_type = 'conversion' THEN 1 ELSE 0 END) AS DOUBLE) / NULLIF(SUM(CASE WHEN m.event_type = 'click' THEN 1 ELSE 0 END), 0) AS DOUBLE) AS conversion_rate
FROM bronze.marketing_events AS m
GROUP BY m.campaign_id
ORDER BY campaign_id;

-- daily unsubscribes
-- status: ready
SELECT
    CAST(DATE_TRUNC('day', m.event_time) AS DATE) AS event_day,
    CAST(COUNT(*) AS BIGINT) AS unsubscribe_count
FROM bronze.marketing_events AS m
WHERE (m.event_type = 'unsubscribe')
GROUP BY CAST(DATE_TRUNC('day', m.event_time) AS DATE)
ORDER BY event_day;

-- net revenue and gross revenue by region
-- status: ready
SELECT
    o.region AS region,
    CAST(SUM(CASE WHEN LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped') THEN (o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END END) AS DECIMAL(18,2)) AS net_revenue,
    CAST(SUM(CASE WHEN LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped', 'returned') THEN o.quantity * o.unit_price * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END END) AS DECIMAL(18,2)) AS gross_revenue
FROM bronze.orders AS o
GROUP BY o.region
ORDER BY region;

-- What is our net revenue by month?
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', o.order_date) AS DATE) AS order_month,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY CAST(DATE_TRUNC('month', o.order_date) AS DATE)
ORDER BY order_month;

-- show me weekly order counts by region
-- status: ready
SELECT
    CAST(DATE_TRUNC('week', o.order_date) AS DATE) AS order_week,
    o.region AS region,
    CAST(COUNT(DISTINCT o.order_id) AS BIGINT) AS order_count
FROM bronze.orders AS o
GROUP BY CAST(DATE_TRUNC('week', o.order_date) AS DATE), o.region
ORDER BY order_week, region;

-- give me net sales by product category for 2024
-- status: ready
SELECT
    COALESCE(p.category, 'Unknown') AS category,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
  AND (CAST(o.order_date AS DATE) >= DATE '2024-01-01' AND CAST(o.order_date AS DATE) < DATE '2025-01-01')
GROUP BY COALESCE(p.category, 'Unknown')
ORDER BY category;

-- monthly GMV by country
-- status: ready
SELECT
    CAST(DATE_TRUNC('month', o.order_date) AS DATE) AS order_month,
    o.shipping_country AS shipping_country,
    CAST(SUM(o.quantity * o.unit_price * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS gross_revenue
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped', 'returned'))
GROUP BY CAST(DATE_TRUNC('month', o.order_date) AS DATE), o.shipping_country
ORDER BY order_month, shipping_country;

-- AOV per region
-- status: ready
SELECT
    o.region AS region,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) / COUNT(DISTINCT o.order_id) AS DOUBLE) AS average_order_value
FROM bronze.orders AS o
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY o.region
ORDER BY region;

-- number of tickets by priority and channel
-- status: ready
SELECT
    s.priority AS priority,
    s.channel AS channel,
    CAST(COUNT(DISTINCT s.ticket_id) AS BIGINT) AS support_ticket_count
FROM bronze.support_tickets AS s
GROUP BY s.priority, s.channel
ORDER BY priority, channel;

-- CTR by device for 2024
-- status: ready
SELECT
    m.device AS device,
    CAST(CAST(SUM(CASE WHEN m.event_type = 'click' THEN 1 ELSE 0 END) AS DOUBLE) / NULLIF(SUM(CASE WHEN m.event_type = 'impression' THEN 1 ELSE 0 END), 0) AS DOUBLE) AS click_through_rate
FROM bronze.marketing_events AS m
WHERE (CAST(m.event_time AS DATE) >= DATE '2024-01-01' AND CAST(m.event_time AS DATE) < DATE '2025-01-01')
GROUP BY m.device
ORDER BY device;

-- customers by tier
-- status: ready
SELECT
    c.loyalty_tier AS loyalty_tier,
    CAST(COUNT(DISTINCT c.customer_id) AS BIGINT) AS customer_count
FROM bronze.customers AS c
GROUP BY c.loyalty_tier
ORDER BY loyalty_tier;

-- count of web sessions per day
-- status: ready
SELECT
    CAST(DATE_TRUNC('day', u.event_time) AS DATE) AS event_day,
    CAST(COUNT(DISTINCT u.session_id) AS BIGINT) AS web_session_count
FROM bronze.user_interactions AS u
GROUP BY CAST(DATE_TRUNC('day', u.event_time) AS DATE)
ORDER BY event_day;

-- margin by brand
-- status: ready
SELECT
    COALESCE(p.brand, 'Unknown') AS brand,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0) - o.quantity * p.unit_cost) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS gross_margin
FROM bronze.orders AS o
LEFT JOIN bronze.products AS p ON p.product_id = o.product_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY COALESCE(p.brand, 'Unknown')
ORDER BY brand;

-- net revenue by customer country
-- status: ready
SELECT
    COALESCE(c.country, 'Unknown') AS country,
    CAST(SUM((o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END) AS DECIMAL(18,2)) AS net_revenue
FROM bronze.orders AS o
LEFT JOIN bronze.customers AS c ON c.customer_id = o.customer_id
WHERE (LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped'))
GROUP BY COALESCE(c.country, 'Unknown')
ORDER BY country;

-- impressions and clicks by campaign name
-- status: ready
SELECT
    COALESCE(m2.campaign_name, 'Unknown') AS campaign_name,
    CAST(COUNT(CASE WHEN m.event_type = 'impression' THEN 1 END) AS BIGINT) AS impression_count,
    CAST(COUNT(CASE WHEN m.event_type = 'click' THEN 1 END) AS BIGINT) AS click_count
FROM bronze.marketing_events AS m
LEFT JOIN bronze.marketing_campaigns AS m2 ON m2.campaign_id = m.campaign_id
GROUP BY COALESCE(m2.campaign_name, 'Unknown')
ORDER BY campaign_name;

-- average order value and gross revenue by region
-- status: ready
SELECT
    o.region AS region,
    CAST(SUM(CASE WHEN LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped') THEN (o.quantity * o.unit_price - COALESCE(o.discount_amount, 0)) * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END END) / COUNT(DISTINCT CASE WHEN LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped') THEN o.order_id END) AS DOUBLE) AS average_order_value,
    CAST(SUM(CASE WHEN LOWER(TRIM(o.status)) IN ('completed', 'complete', 'shipped', 'returned') THEN o.quantity * o.unit_price * CASE o.currency WHEN 'USD' THEN 0.92 WHEN 'GBP' THEN 1.17 ELSE 1.0 END END) AS DECIMAL(18,2)) AS gross_revenue
FROM bronze.orders AS o
GROUP BY o.region
ORDER BY region;

