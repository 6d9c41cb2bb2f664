{% snapshot customers_snapshot %}
{{ config(target_schema=target.schema ~ '_snapshots', unique_key='customer_id', strategy='check', check_cols=['email', 'country']) }}
select customer_id, email, country from {{ ref('stg_customers') }}
{% endsnapshot %}
