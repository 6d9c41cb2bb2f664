-- gold.daily_sales_by_region_category: daily sales KPIs per sales region and product category.
-- Gross revenue counts completed, shipped and returned orders before discounts, returns and
-- tax; net revenue counts completed and shipped orders after discounts, excluding tax. Both
-- are in EUR. A running total of net revenue per region and category is added.
CREATE TABLE gold.daily_sales_by_region_category AS
WITH daily AS (
    SELECT
        f.order_day,
        f.region,
        f.category,
        COUNT(DISTINCT CASE WHEN f.status = 'completed' THEN f.order_id END) AS completed_orders,
        COUNT(DISTINCT CASE WHEN f.status = 'cancelled' THEN f.order_id END) AS cancelled_orders,
        COUNT(DISTINCT CASE WHEN f.status = 'returned' THEN f.order_id END) AS returned_orders,
        SUM(CASE WHEN f.status IN ('completed', 'shipped') THEN f.quantity ELSE 0 END) AS units_sold,
        SUM(
            CASE
                WHEN f.status IN ('completed', 'shipped', 'returned') THEN f.gross_amount_eur
                ELSE 0
            END
        ) AS gross_revenue,
        SUM(
            CASE
                WHEN f.status IN ('completed', 'shipped') THEN f.net_amount_eur
                ELSE 0
            END
        ) AS net_revenue
    FROM silver.order_facts AS f
    GROUP BY f.order_day, f.region, f.category
)
SELECT
    d.order_day,
    d.region,
    d.category,
    d.completed_orders,
    d.cancelled_orders,
    d.returned_orders,
    d.units_sold,
    d.gross_revenue,
    d.net_revenue,
    SUM(d.net_revenue) OVER (
        PARTITION BY d.region, d.category
        ORDER BY d.order_day
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cumulative_net_revenue
FROM daily AS d;
