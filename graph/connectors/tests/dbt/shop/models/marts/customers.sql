{{ config(group='marketing', access='public') }}
select
    c.customer_id,
    c.first_name || ' ' || c.last_name as full_name,
    c.email,
    c.country,
    count(o.order_id) as order_count,
    sum(o.amount) as lifetime_value
from {{ ref('stg_customers') }} c
left join {{ ref('orders') }} o on o.customer_id = c.customer_id
group by c.customer_id, c.first_name, c.last_name, c.email, c.country
