-- Shopify Admin objects as webhooks push them and the REST API answers (single-object and list envelopes are
-- opened by documents.py): orders (`orders/create`, `GET /orders.json`), refunds (`refunds/create`,
-- `GET /orders/{id}/refunds.json`) and transactions (`GET /orders/{id}/transactions.json`); also order nodes
-- of the GraphQL Admin API (camelCase fields, `totalPriceSet.shopMoney`).
-- Each record is parsed once (`from_json`). The address shown is the shipping address, else the billing
-- address, else the customer's default one; an address given as null counts as given (and empty).
-- Orders are class Order; refunds and transactions are class Payment, so they never count as orders.
WITH o AS (
  SELECT line_no, line, ok, CASE WHEN ok THEN from_json(line, '{
    "id": "VARCHAR", "name": "VARCHAR", "email": "VARCHAR", "contact_email": "VARCHAR", "phone": "VARCHAR",
    "processed_at": "VARCHAR", "created_at": "VARCHAR", "cancelled_at": "VARCHAR", "cancel_reason": "VARCHAR",
    "financial_status": "VARCHAR", "browser_ip": "VARCHAR", "total_price": "VARCHAR", "total_discounts": "VARCHAR",
    "currency": "VARCHAR", "presentment_currency": "VARCHAR", "checkout_token": "VARCHAR", "token": "VARCHAR",
    "source_name": "VARCHAR", "discount_codes": "JSON", "payment_gateway_names": "JSON", "gateway": "VARCHAR",
    "line_items": "JSON",
    "order_id": "VARCHAR", "kind": "VARCHAR", "status": "VARCHAR", "amount": "VARCHAR", "error_code": "VARCHAR",
    "message": "VARCHAR", "note": "VARCHAR", "restock": "VARCHAR", "user_id": "VARCHAR",
    "refund_line_items": "JSON", "transactions": "JSON",
    "payment_details": {"credit_card_number": "VARCHAR", "credit_card_company": "VARCHAR", "credit_card_bin": "VARCHAR",
      "avs_result_code": "VARCHAR", "cvv_result_code": "VARCHAR"},
    "createdAt": "VARCHAR", "processedAt": "VARCHAR", "cancelledAt": "VARCHAR", "cancelReason": "VARCHAR",
    "displayFinancialStatus": "VARCHAR", "clientIp": "VARCHAR", "currencyCode": "VARCHAR", "sourceName": "VARCHAR",
    "discountCodes": "VARCHAR[]", "paymentGatewayNames": "JSON",
    "totalPriceSet": {"shopMoney": {"amount": "VARCHAR", "currencyCode": "VARCHAR"}},
    "client_details": {"browser_ip": "VARCHAR", "user_agent": "VARCHAR", "accept_language": "VARCHAR"},
    "customer": {"id": "VARCHAR", "email": "VARCHAR", "phone": "VARCHAR", "orders_count": "VARCHAR",
      "default_address": {"first_name": "VARCHAR", "last_name": "VARCHAR", "address1": "VARCHAR", "address2": "VARCHAR",
        "city": "VARCHAR", "zip": "VARCHAR", "country_code": "VARCHAR", "phone": "VARCHAR"}},
    "shipping_address": {"first_name": "VARCHAR", "last_name": "VARCHAR", "address1": "VARCHAR", "address2": "VARCHAR",
      "city": "VARCHAR", "zip": "VARCHAR", "country_code": "VARCHAR", "phone": "VARCHAR"},
    "billing_address": {"first_name": "VARCHAR", "last_name": "VARCHAR", "address1": "VARCHAR", "address2": "VARCHAR",
      "city": "VARCHAR", "zip": "VARCHAR", "country_code": "VARCHAR", "phone": "VARCHAR"},
    "shippingAddress": {"firstName": "VARCHAR", "lastName": "VARCHAR", "address1": "VARCHAR", "address2": "VARCHAR",
      "city": "VARCHAR", "zip": "VARCHAR", "countryCodeV2": "VARCHAR", "phone": "VARCHAR"},
    "billingAddress": {"countryCodeV2": "VARCHAR"},
    "X-Shopify-Topic": "VARCHAR", "X-Shopify-Shop-Domain": "VARCHAR"}') END AS j
  FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch)
), a AS (
  SELECT *,
    CASE WHEN j.kind IS NOT NULL AND j.order_id IS NOT NULL THEN 'transaction'
         WHEN j.refund_line_items IS NOT NULL OR (j.order_id IS NOT NULL AND j.transactions IS NOT NULL) THEN 'refund'
         ELSE 'order' END AS object,
    CASE WHEN NOT ok THEN NULL
         WHEN j.shipping_address IS NOT NULL THEN j.shipping_address
         WHEN j.shippingAddress IS NOT NULL THEN {'first_name': j.shippingAddress.firstName, 'last_name': j.shippingAddress.lastName,
           'address1': j.shippingAddress.address1, 'address2': j.shippingAddress.address2, 'city': j.shippingAddress.city,
           'zip': j.shippingAddress.zip, 'country_code': j.shippingAddress.countryCodeV2, 'phone': j.shippingAddress.phone}
         WHEN json_exists(line, '$.shipping_address') OR json_exists(line, '$.shippingAddress') THEN NULL
         WHEN j.billing_address IS NOT NULL THEN j.billing_address
         WHEN json_exists(line, '$.billing_address') THEN NULL
         ELSE j.customer.default_address END AS ship,
    CASE WHEN j.transactions IS NOT NULL
         THEN from_json(j.transactions, '[{"amount": "VARCHAR", "kind": "VARCHAR", "status": "VARCHAR", "currency": "VARCHAR", "gateway": "VARCHAR"}]') END AS txs,
    coalesce(j.financial_status, lower(j.displayFinancialStatus)) AS financial_status
  FROM o
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' END AS _error,
  sw_time(coalesce(j.processed_at, j.processedAt, j.created_at, j.createdAt)) AS time,
  CASE object WHEN 'order' THEN 'Order' ELSE 'Payment' END AS class_name,
  CASE WHEN object = 'refund' THEN 'refund'
       WHEN object = 'transaction' THEN CASE WHEN j.kind IN ('sale', 'authorization') THEN 'charge' ELSE j.kind END
       WHEN coalesce(j.cancelled_at, j.cancelledAt) IS NOT NULL THEN 'order_cancelled' ELSE 'order' END AS activity,
  CASE WHEN object = 'transaction' THEN CASE WHEN j.status = 'success' THEN 'success'
                                             WHEN j.status IN ('failure', 'error') THEN 'failure' ELSE 'unknown' END
       WHEN object = 'refund' THEN CASE WHEN len(txs) = 0 OR txs IS NULL THEN 'unknown'
                                        WHEN list_bool_and([t.status = 'success' FOR t IN txs]) THEN 'success'
                                        WHEN list_bool_or([t.status IN ('failure', 'error') FOR t IN txs]) THEN 'failure'
                                        ELSE 'unknown' END
       WHEN financial_status IN ('voided') OR coalesce(j.cancelled_at, j.cancelledAt) IS NOT NULL THEN 'failure' ELSE 'success' END AS outcome,
  CASE object WHEN 'transaction' THEN coalesce(j.error_code, j.message) WHEN 'refund' THEN j.note
       ELSE coalesce(j.cancel_reason, lower(j.cancelReason), financial_status) END AS reason,
  CASE object WHEN 'transaction' THEN j.kind WHEN 'refund' THEN 'refund' ELSE financial_status END AS event_code,
  j.customer.id AS user_id,
  lower(coalesce(j.email, j.contact_email, j.customer.email)) AS email,
  nullif(trim(concat_ws(' ', ship.first_name, ship.last_name)), '') AS person_name,
  nullif(concat_ws(', ', ship.address1, ship.address2, ship.city, ship.zip, ship.country_code), '') AS address,
  coalesce(j.phone, ship.phone, j.customer.phone) AS phone,
  upper(coalesce(j.billing_address.country_code, j.billingAddress.countryCodeV2, ship.country_code)) AS country,
  coalesce(j.browser_ip, j.client_details.browser_ip, j.clientIp) AS src_ip,
  j.client_details.user_agent AS user_agent,
  CASE object WHEN 'transaction' THEN try_cast(j.amount AS DECIMAL(18,2))
              WHEN 'refund' THEN list_sum([try_cast(t.amount AS DECIMAL(18,2)) FOR t IN txs IF t.kind = 'refund'])
              ELSE try_cast(coalesce(j.total_price, j.totalPriceSet.shopMoney.amount) AS DECIMAL(18,2)) END AS amount,
  upper(coalesce(j.currency, j.presentment_currency, j.totalPriceSet.shopMoney.currencyCode, j.currencyCode, txs[1].currency)) AS currency,
  nullif(regexp_extract(j.payment_details.credit_card_number, '(\d{4})\s*$', 1), '') AS card_last4,
  lower(j.payment_details.credit_card_company) AS card_brand,
  CASE WHEN object = 'order' THEN coalesce(j.id, j.name) ELSE j.order_id END AS order_id,
  CASE WHEN object = 'order' THEN coalesce(j.checkout_token, j.token) ELSE j.id END AS transaction_id,
  -- a webhook spooled by `storewatch receive` carries its topic and shop as keys (the headers they came in)
  json_merge_patch(CASE WHEN object = 'order' THEN
    json_object('name', j.name,
                'discount_codes', CASE WHEN ok THEN coalesce(j.discountCodes, json_extract_string(j.discount_codes, '$[*].code'), []) END,
                'total_discounts', try_cast(j.total_discounts AS DOUBLE),
                'gateways', coalesce(j.payment_gateway_names, j.paymentGatewayNames,
                                     CASE WHEN j.gateway IS NOT NULL THEN to_json([j.gateway]) END),
                'line_items', CASE WHEN j.line_items IS NOT NULL THEN json_array_length(j.line_items)
                                   WHEN ok AND json_exists(line, '$.line_items') THEN 0 END,
                'customer_orders_count', try_cast(j.customer.orders_count AS INTEGER),
                'billing_address', concat_ws(', ', j.billing_address.address1, j.billing_address.city, j.billing_address.zip, j.billing_address.country_code),
                'shipping_country', ship.country_code, 'accept_language', j.client_details.accept_language,
                'source_name', coalesce(j.source_name, j.sourceName))
  ELSE
    json_object('object', object, 'gateway', coalesce(j.gateway, txs[1].gateway), 'kind', j.kind, 'status', j.status,
                'restock', try_cast(j.restock AS BOOLEAN), 'staff_user_id', j.user_id,
                'refund_line_items', CASE WHEN j.refund_line_items IS NOT NULL THEN json_array_length(j.refund_line_items) END,
                'credit_card_bin', j.payment_details.credit_card_bin, 'avs_result_code', j.payment_details.avs_result_code,
                'cvv_result_code', j.payment_details.cvv_result_code)
  END, json_object('shopify_topic', j."X-Shopify-Topic", 'shop_domain', j."X-Shopify-Shop-Domain")) AS attributes
FROM a
