SELECT
  c.customer_id,
  CASE WHEN c.segment = 'vip' THEN c.email ELSE NULL END AS vip_email,
  CASE c.country WHEN 'DE' THEN 'domestic' ELSE 'foreign' END AS market,
  SUM(CASE WHEN o.status = 'paid' THEN o.total_amount ELSE 0 END) AS paid_amount
FROM customers c JOIN orders o ON o.customer_id = c.customer_id
GROUP BY c.customer_id, c.segment, c.email, c.country;
