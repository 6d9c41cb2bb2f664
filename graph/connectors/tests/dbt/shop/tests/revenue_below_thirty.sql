-- Fails on purpose: Great Britain's revenue is above 30.
select country, revenue from {{ ref('revenue_by_country') }} where revenue > 30
