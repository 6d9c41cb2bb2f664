UPDATE silver.orders_enriched oe
SET total_eur = o.total_amount * r.rate_to_eur,
    status = upper(o.status)
FROM bronze.orders o JOIN bronze.exchange_rates r ON r.currency = o.currency
WHERE oe.order_id = o.order_id;
