-- Shopify order objects (webhooks `orders/create`, Admin REST `GET /orders.json` records).
-- Each line is parsed once (`from_json`). The address shown is the shipping address, else the billing
-- address, else the customer's default one; an address given as null counts as given (and empty).
WITH o AS (
  SELECT line_no, line, ok, CASE WHEN ok THEN from_json(line, '{
    "id": "VARCHAR", "name": "VARCHAR", "email": "VARCHAR", "contact_email": "VARCHAR", "phone": "VARCHAR",
    "processed_at": "VARCHAR", "created_at": "VARCHAR", "cancelled_at": "VARCHAR", "cancel_reason": "VARCHAR",
    "financial_status": "VARCHAR", "browser_ip": "VARCHAR", "total_price": "VARCHAR", "total_discounts": "VARCHAR",
    "currency": "VARCHAR", "presentment_currency": "VARCHAR", "checkout_token": "VARCHAR", "token": "VARCHAR",
    "source_name": "VARCHAR", "discount_codes": "JSON", "payment_gateway_names": "JSON", "line_items": "JSON",
    "client_details": {"browser_ip": "VARCHAR", "user_agent": "VARCHAR", "accept_language": "VARCHAR"},
    "customer": {"id": "VARCHAR", "email": "VARCHAR", "phone": "VARCHAR", "orders_count": "VARCHAR",
      "default_address": {"first_name": "VARCHAR", "last_name": "VARCHAR", "address1": "VARCHAR", "address2": "VARCHAR",
        "city": "VARCHAR", "zip": "VARCHAR", "country_code": "VARCHAR", "phone": "VARCHAR"}},
    "shipping_address": {"first_name": "VARCHAR", "last_name": "VARCHAR", "address1": "VARCHAR", "address2": "VARCHAR",
      "city": "VARCHAR", "zip": "VARCHAR", "country_code": "VARCHAR", "phone": "VARCHAR"},
    "billing_address": {"first_name": "VARCHAR", "last_name": "VARCHAR", "address1": "VARCHAR", "address2": "VARCHAR",
      "city": "VARCHAR", "zip": "VARCHAR", "country_code": "VARCHAR", "phone": "VARCHAR"}}') END AS j
  FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch)
), a AS (
  SELECT *,
    CASE WHEN NOT ok THEN NULL
         WHEN j.shipping_address IS NOT NULL THEN j.shipping_address
         WHEN json_exists(line, '$.shipping_address') THEN NULL
         WHEN j.billing_address IS NOT NULL THEN j.billing_address
         WHEN json_exists(line, '$.billing_address') THEN NULL
         ELSE j.customer.default_address END AS ship
  FROM o
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' END AS _error,
  sw_time(coalesce(j.processed_at, j.created_at)) AS time,
  'Order' AS class_name,
  CASE WHEN j.cancelled_at IS NOT NULL THEN 'order_cancelled' ELSE 'order' END AS activity,
  CASE WHEN j.financial_status IN ('voided') OR j.cancelled_at IS NOT NULL THEN 'failure' ELSE 'success' END AS outcome,
  coalesce(j.cancel_reason, j.financial_status) AS reason,
  j.financial_status AS event_code,
  j.customer.id AS user_id,
  lower(coalesce(j.email, j.contact_email, j.customer.email)) AS email,
  nullif(trim(concat_ws(' ', ship.first_name, ship.last_name)), '') AS person_name,
  nullif(concat_ws(', ', ship.address1, ship.address2, ship.city, ship.zip, ship.country_code), '') AS address,
  coalesce(j.phone, ship.phone, j.customer.phone) AS phone,
  upper(coalesce(j.billing_address.country_code, ship.country_code)) AS country,
  coalesce(j.browser_ip, j.client_details.browser_ip) AS src_ip,
  j.client_details.user_agent AS user_agent,
  try_cast(j.total_price AS DECIMAL(18,2)) AS amount,
  upper(coalesce(j.currency, j.presentment_currency)) AS currency,
  coalesce(j.id, j.name) AS order_id,
  coalesce(j.checkout_token, j.token) AS transaction_id,
  json_object('name', j.name, 'discount_codes', CASE WHEN ok THEN coalesce(json_extract_string(j.discount_codes, '$[*].code'), []) END,
              'total_discounts', try_cast(j.total_discounts AS DOUBLE),
              'gateways', j.payment_gateway_names,
              'line_items', CASE WHEN j.line_items IS NOT NULL THEN json_array_length(j.line_items)
                                  WHEN ok AND json_exists(line, '$.line_items') THEN 0 END,
              'customer_orders_count', try_cast(j.customer.orders_count AS INTEGER),
              'billing_address', concat_ws(', ', j.billing_address.address1, j.billing_address.city, j.billing_address.zip, j.billing_address.country_code),
              'shipping_country', ship.country_code, 'accept_language', j.client_details.accept_language,
              'source_name', j.source_name) AS attributes
FROM a
