-- silver.order_facts: cleaned orders enriched with product and customer attributes.
-- Amounts are converted to EUR with fixed reporting rates (USD 0.92, GBP 1.17), products
-- without a category are reported as 'Unknown', and the gross margin is net revenue minus
-- the product's unit cost. Orders of unknown customers are kept (left join).
CREATE TABLE silver.order_facts AS
WITH fx AS (
    SELECT
        o.order_id,
        CASE o.currency
            WHEN 'USD' THEN 0.92
            WHEN 'GBP' THEN 1.17
            ELSE 1.0
        END AS fx_rate_to_eur
    FROM silver.orders_clean AS o
)
SELECT
    o.order_id,
    o.order_day,
    o.order_ts,
    o.status,
    o.region,
    o.shipping_country,
    o.customer_id,
    c.country AS customer_country,
    c.loyalty_tier,
    o.product_id,
    p.sku,
    p.product_name,
    COALESCE(p.category, 'Unknown') AS category,
    COALESCE(p.subcategory, 'Unknown') AS subcategory,
    p.brand,
    o.quantity,
    o.currency,
    o.payment_method,
    fx.fx_rate_to_eur,
    o.gross_amount * fx.fx_rate_to_eur AS gross_amount_eur,
    o.discount_amount * fx.fx_rate_to_eur AS discount_amount_eur,
    o.net_amount * fx.fx_rate_to_eur AS net_amount_eur,
    o.tax_amount * fx.fx_rate_to_eur AS tax_amount_eur,
    (o.net_amount - o.quantity * p.unit_cost) * fx.fx_rate_to_eur AS margin_amount_eur
FROM silver.orders_clean AS o
JOIN fx ON fx.order_id = o.order_id
JOIN bronze.products AS p ON p.product_id = o.product_id
LEFT JOIN silver.customers_clean AS c ON c.customer_id = o.customer_id;
