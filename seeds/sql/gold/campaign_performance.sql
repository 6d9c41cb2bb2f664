-- gold.campaign_performance: funnel metrics and attributed revenue per marketing campaign.
-- Counts impressions, clicks, conversions and unsubscribes from bronze.marketing_events,
-- derives click-through and conversion rates, and attributes the net revenue (EUR) of
-- completed and shipped orders placed during the campaign window by customers who converted
-- on it. Campaigns are ranked by attributed revenue within their channel.
CREATE TABLE gold.campaign_performance AS
WITH event_counts AS (
    SELECT
        e.campaign_id,
        SUM(CASE WHEN e.event_type = 'impression' THEN 1 ELSE 0 END) AS impressions,
        SUM(CASE WHEN e.event_type = 'click' THEN 1 ELSE 0 END) AS clicks,
        SUM(CASE WHEN e.event_type = 'conversion' THEN 1 ELSE 0 END) AS conversions,
        SUM(CASE WHEN e.event_type = 'unsubscribe' THEN 1 ELSE 0 END) AS unsubscribes,
        COUNT(DISTINCT e.customer_id) AS reached_customers
    FROM bronze.marketing_events AS e
    GROUP BY e.campaign_id
),
converted_customers AS (
    SELECT DISTINCT
        e.campaign_id,
        e.customer_id
    FROM bronze.marketing_events AS e
    WHERE e.event_type = 'conversion'
),
attributed AS (
    SELECT
        cc.campaign_id,
        SUM(f.net_amount_eur) AS attributed_revenue
    FROM converted_customers AS cc
    JOIN bronze.marketing_campaigns AS mc ON mc.campaign_id = cc.campaign_id
    JOIN silver.order_facts AS f
        ON f.customer_id = cc.customer_id
        AND f.order_day BETWEEN mc.start_date AND mc.end_date
        AND f.status IN ('completed', 'shipped')
    GROUP BY cc.campaign_id
)
SELECT
    mc.campaign_id,
    mc.campaign_name,
    mc.channel,
    mc.start_date,
    mc.end_date,
    mc.target_segment,
    mc.budget,
    COALESCE(ec.impressions, 0) AS impressions,
    COALESCE(ec.clicks, 0) AS clicks,
    COALESCE(ec.conversions, 0) AS conversions,
    COALESCE(ec.unsubscribes, 0) AS unsubscribes,
    COALESCE(ec.reached_customers, 0) AS reached_customers,
    CASE WHEN ec.impressions > 0 THEN 1.0 * ec.clicks / ec.impressions END AS click_through_rate,
    CASE WHEN ec.clicks > 0 THEN 1.0 * ec.conversions / ec.clicks END AS conversion_rate,
    COALESCE(a.attributed_revenue, 0) AS attributed_net_revenue_eur,
    CASE WHEN ec.conversions > 0 THEN mc.budget / ec.conversions END AS cost_per_conversion,
    COALESCE(a.attributed_revenue, 0) / NULLIF(mc.budget, 0) AS return_on_ad_spend,
    DENSE_RANK() OVER (
        PARTITION BY mc.channel
        ORDER BY COALESCE(a.attributed_revenue, 0) DESC
    ) AS channel_rank
FROM bronze.marketing_campaigns AS mc
LEFT JOIN event_counts AS ec ON ec.campaign_id = mc.campaign_id
LEFT JOIN attributed AS a ON a.campaign_id = mc.campaign_id;
