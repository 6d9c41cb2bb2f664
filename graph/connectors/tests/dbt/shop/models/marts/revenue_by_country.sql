select c.country, sum(o.amount) as revenue
from {{ ref('orders') }} o
join {{ ref('stg_customers') }} c on c.customer_id = o.customer_id
where o.status = 'completed'
group by c.country
