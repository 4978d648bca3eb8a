-- Stripe objects as the API answers and webhooks push them: event objects (webhook bodies, `GET /v1/events`)
-- and the bare objects of `GET /v1/<resource>` (lists are opened by documents.py): charges, payment intents,
-- refunds, disputes, early fraud warnings, Radar reviews, Checkout sessions, balance transactions.
-- `o` is the object the record is about: an event's data.object, else the record itself; it is parsed once
-- with one structure (`from_json`). An event without its object is quarantined.
-- Amounts are in the currency's minor unit (https://docs.stripe.com/currencies): zero-decimal currencies
-- are whole units, the three-decimal ones (BHD, JOD, KWD, OMR, TND) thousandths; ISK, HUF, TWD are sent
-- with two decimals like the rest.
WITH e AS (
  SELECT line_no, ok,
    CASE WHEN ok THEN from_json(line, '{"id": "VARCHAR", "object": "VARCHAR", "type": "VARCHAR", "created": "VARCHAR"}') END AS ev,
    CASE WHEN NOT ok THEN NULL WHEN line->>'$.object' = 'event' THEN line->'$.data.object' ELSE line::JSON END AS body
  FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch)
), x AS (
  SELECT line_no, ok, ev, CASE WHEN ev.object = 'event' THEN ev.type ELSE ev.object END AS etype,
    from_json(body, '{"id": "VARCHAR", "object": "VARCHAR", "created": "VARCHAR", "amount": "VARCHAR",
      "amount_total": "VARCHAR", "amount_refunded": "VARCHAR", "currency": "VARCHAR", "status": "VARCHAR",
      "payment_status": "VARCHAR", "paid": "VARCHAR", "refunded": "VARCHAR", "failure_code": "VARCHAR",
      "reason": "VARCHAR", "fraud_type": "VARCHAR", "customer": "VARCHAR", "receipt_email": "VARCHAR",
      "customer_email": "VARCHAR", "charge": "VARCHAR", "latest_charge": "VARCHAR", "payment_intent": "VARCHAR",
      "ip_address": "VARCHAR", "ip_address_location": {"country": "VARCHAR"}, "opened_reason": "VARCHAR",
      "closed_reason": "VARCHAR", "reporting_category": "VARCHAR",
      "last_payment_error": {"code": "VARCHAR", "decline_code": "VARCHAR"},
      "outcome": {"reason": "VARCHAR", "seller_message": "VARCHAR", "risk_level": "VARCHAR",
        "risk_score": "VARCHAR", "type": "VARCHAR", "network_status": "VARCHAR"},
      "billing_details": {"email": "VARCHAR", "name": "VARCHAR", "address": {"country": "VARCHAR"}},
      "customer_details": {"email": "VARCHAR", "name": "VARCHAR", "address": {"country": "VARCHAR"}},
      "metadata": {"client_ip": "VARCHAR", "ip": "VARCHAR", "customer_ip": "VARCHAR", "order_id": "VARCHAR",
        "order": "VARCHAR"},
      "payment_method_details": {"card": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
          "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}}},
      "source": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
        "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}},
      "card": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
        "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}}}') AS o
  FROM e
), c AS (
  SELECT *, coalesce(o.payment_method_details.card, o.source, o.card) AS card,
    CASE WHEN lower(o.currency) IN ('bif','clp','djf','gnf','jpy','kmf','krw','mga','pyg','rwf','ugx','vnd','vuv','xaf','xof','xpf') THEN 1
         WHEN lower(o.currency) IN ('bhd','jod','kwd','omr','tnd') THEN 1000 ELSE 100 END AS minor
  FROM x
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' WHEN o IS NULL THEN 'event without data.object' END AS _error,
  sw_epoch(coalesce(ev.created, o.created)) AS time,
  'Payment' AS class_name,
  CASE WHEN etype LIKE 'charge.dispute.%' OR o.object = 'dispute' THEN 'dispute'
       WHEN etype LIKE 'radar.early_fraud_warning.%' OR o.object = 'radar.early_fraud_warning' THEN 'early_fraud_warning'
       WHEN etype = 'charge.refunded' OR etype LIKE 'charge.refund.%' OR o.object = 'refund' THEN 'refund'
       WHEN etype LIKE 'charge.%' OR o.object = 'charge' THEN 'charge'
       WHEN etype LIKE 'payment_intent.%' OR o.object = 'payment_intent' THEN 'payment_intent'
       ELSE split_part(etype, '.', 1) END AS activity,
  CASE WHEN etype IN ('charge.failed', 'payment_intent.payment_failed', 'checkout.session.async_payment_failed')
         OR o.status = 'failed' OR o.outcome.type IN ('blocked', 'issuer_declined', 'invalid') THEN 'failure'
       WHEN etype LIKE 'charge.dispute.%' OR etype LIKE 'radar.%' OR etype LIKE 'review.%' THEN 'unknown'
       WHEN o.status IN ('succeeded', 'paid', 'complete') OR o.payment_status = 'paid' OR etype LIKE '%.succeeded' THEN 'success'
       ELSE 'unknown' END AS outcome,
  coalesce(o.failure_code, o.last_payment_error.decline_code, o.last_payment_error.code, o.outcome.reason,
           o.reason, o.fraud_type, o.outcome.seller_message) AS reason,
  etype AS event_code,
  o.customer AS user_id,
  lower(coalesce(o.billing_details.email, o.receipt_email, o.customer_details.email, o.customer_email)) AS email,
  coalesce(o.billing_details.name, o.customer_details.name) AS person_name,
  coalesce(o.ip_address, o.metadata.client_ip, o.metadata.ip, o.metadata.customer_ip) AS src_ip,
  upper(coalesce(card.country, o.billing_details.address.country, o.customer_details.address.country,
                 o.ip_address_location.country)) AS country,
  try_cast(coalesce(o.amount, o.amount_total) AS DECIMAL(18,3)) / minor AS amount,
  upper(o.currency) AS currency,
  card.fingerprint AS card_fingerprint,
  card.last4 AS card_last4,
  lower(card.brand) AS card_brand,
  coalesce(o.metadata.order_id, o.metadata."order") AS order_id,
  CASE WHEN o.object = 'charge' THEN o.id ELSE coalesce(o.charge, o.latest_charge, o.id) END AS transaction_id,
  json_object('event_id', ev.id, 'object_id', o.id, 'risk_level', o.outcome.risk_level,
              'risk_score', try_cast(o.outcome.risk_score AS INTEGER), 'outcome_type', o.outcome.type,
              'network_status', o.outcome.network_status, 'funding', card.funding,
              'cvc_check', card.checks.cvc_check, 'paid', try_cast(o.paid AS BOOLEAN),
              'refunded', try_cast(o.refunded AS BOOLEAN),
              'amount_refunded', try_cast(o.amount_refunded AS DECIMAL(18,3)) / minor,
              'payment_intent', o.payment_intent,
              'dispute_status', CASE WHEN o.object = 'dispute' THEN o.status END,
              'review_opened_reason', o.opened_reason, 'review_closed_reason', o.closed_reason,
              'reporting_category', o.reporting_category) AS attributes
FROM c
