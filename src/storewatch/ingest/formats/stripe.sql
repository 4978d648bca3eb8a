-- Stripe event objects (webhooks, `GET /v1/events`): charges, refunds, disputes, early fraud warnings,
-- payment intents; also bare charge objects from `GET /v1/charges`. Amounts are in minor units except
-- for Stripe's zero-decimal currencies.
-- Each line is parsed once (`from_json`); `o` is the object the event is about (data.object), or the line
-- itself when it is a bare object. An event without its object is quarantined.
WITH e AS (
  SELECT line_no, ok, CASE WHEN ok THEN from_json(line, '{"id": "VARCHAR", "object": "VARCHAR", "created": "VARCHAR", "amount": "VARCHAR",
    "currency": "VARCHAR", "status": "VARCHAR", "failure_code": "VARCHAR", "reason": "VARCHAR",
    "fraud_type": "VARCHAR", "customer": "VARCHAR", "receipt_email": "VARCHAR", "charge": "VARCHAR",
    "outcome": {"reason": "VARCHAR", "seller_message": "VARCHAR", "risk_level": "VARCHAR",
      "risk_score": "VARCHAR", "type": "VARCHAR", "network_status": "VARCHAR"},
    "billing_details": {"email": "VARCHAR", "address": {"country": "VARCHAR"}},
    "metadata": {"client_ip": "VARCHAR", "ip": "VARCHAR", "customer_ip": "VARCHAR", "order_id": "VARCHAR",
      "order": "VARCHAR"},
    "payment_method_details": {"card": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
        "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}}},
    "source": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
      "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}},
    "card": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
      "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}},
    "type": "VARCHAR",
    "data": {"object": {"id": "VARCHAR", "object": "VARCHAR", "created": "VARCHAR", "amount": "VARCHAR",
        "currency": "VARCHAR", "status": "VARCHAR", "failure_code": "VARCHAR", "reason": "VARCHAR",
        "fraud_type": "VARCHAR", "customer": "VARCHAR", "receipt_email": "VARCHAR", "charge": "VARCHAR",
        "outcome": {"reason": "VARCHAR", "seller_message": "VARCHAR", "risk_level": "VARCHAR",
          "risk_score": "VARCHAR", "type": "VARCHAR", "network_status": "VARCHAR"},
        "billing_details": {"email": "VARCHAR", "address": {"country": "VARCHAR"}},
        "metadata": {"client_ip": "VARCHAR", "ip": "VARCHAR", "customer_ip": "VARCHAR", "order_id": "VARCHAR",
          "order": "VARCHAR"},
        "payment_method_details": {"card": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
            "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}}},
        "source": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
          "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}},
        "card": {"country": "VARCHAR", "fingerprint": "VARCHAR", "last4": "VARCHAR", "brand": "VARCHAR",
          "funding": "VARCHAR", "checks": {"cvc_check": "VARCHAR"}}}}}') END AS j
  FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch)
), x AS (
  SELECT line_no, ok, j,
    CASE WHEN ok THEN CASE WHEN j.object = 'event' THEN j.data.object
      ELSE {'id': j.id, 'object': j.object, 'created': j.created, 'amount': j.amount, 'currency': j.currency,
             'status': j.status, 'failure_code': j.failure_code, 'reason': j.reason,
             'fraud_type': j.fraud_type, 'customer': j.customer, 'receipt_email': j.receipt_email,
             'charge': j.charge, 'outcome': j.outcome, 'billing_details': j.billing_details,
             'metadata': j.metadata, 'payment_method_details': j.payment_method_details, 'source': j.source,
             'card': j.card} END END AS o,
    CASE WHEN ok THEN coalesce(j.type, j.object) END AS etype
  FROM e
), c AS (
  SELECT *, coalesce(o.payment_method_details.card, o.source, o.card) AS card,
         lower(o.currency) IN ('bif','clp','djf','gnf','jpy','kmf','krw','mga','pyg','rwf','ugx','vnd','vuv','xaf','xof','xpf') AS zero_dec
  FROM x
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' WHEN o IS NULL THEN 'event without data.object' END AS _error,
  sw_epoch(coalesce(j.created, o.created)) AS time,
  'Payment' AS class_name,
  CASE WHEN etype LIKE 'charge.dispute.%' OR o.object = 'dispute' THEN 'dispute'
       WHEN etype LIKE 'radar.early_fraud_warning.%' OR o.object = 'radar.early_fraud_warning' THEN 'early_fraud_warning'
       WHEN etype = 'charge.refunded' OR etype LIKE 'charge.refund.%' OR o.object = 'refund' THEN 'refund'
       WHEN etype LIKE 'charge.%' OR o.object = 'charge' THEN 'charge'
       WHEN etype LIKE 'payment_intent.%' THEN 'payment_intent'
       ELSE split_part(etype, '.', 1) END AS activity,
  CASE WHEN etype IN ('charge.failed', 'payment_intent.payment_failed') OR o.status = 'failed' THEN 'failure'
       WHEN etype LIKE 'charge.dispute.%' OR etype LIKE 'radar.%' THEN 'unknown'
       WHEN o.status IN ('succeeded', 'paid') OR etype LIKE '%.succeeded' THEN 'success'
       ELSE 'unknown' END AS outcome,
  coalesce(o.failure_code, o.outcome.reason, o.reason, o.fraud_type, o.outcome.seller_message) AS reason,
  etype AS event_code,
  o.customer AS user_id,
  lower(coalesce(o.billing_details.email, o.receipt_email)) AS email,
  coalesce(o.metadata.client_ip, o.metadata.ip, o.metadata.customer_ip) AS src_ip,
  upper(coalesce(card.country, o.billing_details.address.country)) AS country,
  CASE WHEN zero_dec THEN try_cast(o.amount AS DECIMAL(18,2)) ELSE try_cast(o.amount AS DECIMAL(18,2)) / 100 END AS amount,
  upper(o.currency) AS currency,
  card.fingerprint AS card_fingerprint,
  card.last4 AS card_last4,
  lower(card.brand) AS card_brand,
  coalesce(o.metadata.order_id, o.metadata."order") AS order_id,
  CASE WHEN o.object = 'charge' THEN o.id ELSE coalesce(o.charge, o.id) END AS transaction_id,
  json_object('event_id', j.id, 'object_id', o.id, 'risk_level', o.outcome.risk_level,
              'risk_score', try_cast(o.outcome.risk_score AS INTEGER), 'outcome_type', o.outcome.type,
              'network_status', o.outcome.network_status, 'funding', card.funding,
              'cvc_check', card.checks.cvc_check, 'dispute_status', CASE WHEN o.object = 'dispute' THEN o.status END) AS attributes
FROM c
