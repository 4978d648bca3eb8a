-- Shopify order objects (webhooks `orders/create`, Admin REST `GET /orders.json` records).
WITH o AS (
  SELECT line_no, CASE WHEN json_valid(line) THEN line::JSON END AS j FROM batch
), a AS (
  SELECT *, coalesce(j->'$.shipping_address', j->'$.billing_address', j->'$.customer.default_address') AS ship FROM o
)
SELECT
  line_no,
  CASE WHEN j IS NULL THEN 'invalid JSON' END AS _error,
  sw_time(coalesce(j->>'$.processed_at', j->>'$.created_at')) AS time,
  'Order' AS class_name,
  CASE WHEN j->>'$.cancelled_at' IS NOT NULL THEN 'order_cancelled' ELSE 'order' END AS activity,
  CASE WHEN j->>'$.financial_status' IN ('voided') OR j->>'$.cancelled_at' IS NOT NULL THEN 'failure' ELSE 'success' END AS outcome,
  coalesce(j->>'$.cancel_reason', j->>'$.financial_status') AS reason,
  j->>'$.financial_status' AS event_code,
  j->>'$.customer.id' AS user_id,
  lower(coalesce(j->>'$.email', j->>'$.contact_email', j->>'$.customer.email')) AS email,
  nullif(trim(concat_ws(' ', ship->>'$.first_name', ship->>'$.last_name')), '') AS person_name,
  nullif(concat_ws(', ', ship->>'$.address1', ship->>'$.address2', ship->>'$.city', ship->>'$.zip', ship->>'$.country_code'), '') AS address,
  coalesce(j->>'$.phone', ship->>'$.phone', j->>'$.customer.phone') AS phone,
  upper(coalesce(j->>'$.billing_address.country_code', ship->>'$.country_code')) AS country,
  coalesce(j->>'$.browser_ip', j->>'$.client_details.browser_ip') AS src_ip,
  j->>'$.client_details.user_agent' AS user_agent,
  try_cast(j->>'$.total_price' AS DECIMAL(18,2)) AS amount,
  upper(coalesce(j->>'$.currency', j->>'$.presentment_currency')) AS currency,
  coalesce(j->>'$.id', j->>'$.name') AS order_id,
  coalesce(j->>'$.checkout_token', j->>'$.token') AS transaction_id,
  json_object('name', j->>'$.name', 'discount_codes', json_extract_string(j, '$.discount_codes[*].code'),
              'total_discounts', try_cast(j->>'$.total_discounts' AS DOUBLE),
              'gateways', j->'$.payment_gateway_names', 'line_items', json_array_length(j->'$.line_items'),
              'customer_orders_count', try_cast(j->>'$.customer.orders_count' AS INTEGER),
              'billing_address', concat_ws(', ', j->>'$.billing_address.address1', j->>'$.billing_address.city', j->>'$.billing_address.zip', j->>'$.billing_address.country_code'),
              'shipping_country', ship->>'$.country_code', 'accept_language', j->>'$.client_details.accept_language',
              'source_name', j->>'$.source_name') AS attributes
FROM a
