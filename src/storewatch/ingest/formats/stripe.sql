-- Stripe event objects (webhooks, `GET /v1/events`): charges, refunds, disputes, early fraud warnings,
-- payment intents; also bare charge objects from `GET /v1/charges`. Amounts are in minor units except
-- for Stripe's zero-decimal currencies.
WITH e AS (
  SELECT line_no, line,
    CASE WHEN json_valid(line) THEN CASE WHEN line->>'$.object' = 'event' THEN line->'$.data.object' ELSE line::JSON END END AS o,
    CASE WHEN json_valid(line) THEN coalesce(line->>'$.type', line->>'$.object') END AS etype
  FROM batch
), c AS (
  SELECT *, coalesce(o->'$.payment_method_details.card', o->'$.source', o->'$.card') AS card,
         lower(o->>'$.currency') IN ('bif','clp','djf','gnf','jpy','kmf','krw','mga','pyg','rwf','ugx','vnd','vuv','xaf','xof','xpf') AS zero_dec
  FROM e
)
SELECT
  line_no,
  CASE WHEN o IS NULL THEN 'invalid JSON' END AS _error,
  sw_epoch(coalesce(line->>'$.created', o->>'$.created')) AS time,
  'Payment' AS class_name,
  CASE WHEN etype LIKE 'charge.dispute.%' OR o->>'$.object' = 'dispute' THEN 'dispute'
       WHEN etype LIKE 'radar.early_fraud_warning.%' OR o->>'$.object' = 'radar.early_fraud_warning' THEN 'early_fraud_warning'
       WHEN etype = 'charge.refunded' OR etype LIKE 'charge.refund.%' OR o->>'$.object' = 'refund' THEN 'refund'
       WHEN etype LIKE 'charge.%' OR o->>'$.object' = 'charge' THEN 'charge'
       WHEN etype LIKE 'payment_intent.%' THEN 'payment_intent'
       ELSE split_part(etype, '.', 1) END AS activity,
  CASE WHEN etype IN ('charge.failed', 'payment_intent.payment_failed') OR o->>'$.status' = 'failed' THEN 'failure'
       WHEN etype LIKE 'charge.dispute.%' OR etype LIKE 'radar.%' THEN 'unknown'
       WHEN o->>'$.status' IN ('succeeded', 'paid') OR etype LIKE '%.succeeded' THEN 'success'
       ELSE 'unknown' END AS outcome,
  coalesce(o->>'$.failure_code', o->>'$.outcome.reason', o->>'$.reason', o->>'$.fraud_type', o->>'$.outcome.seller_message') AS reason,
  etype AS event_code,
  o->>'$.customer' AS user_id,
  lower(coalesce(o->>'$.billing_details.email', o->>'$.receipt_email')) AS email,
  coalesce(o->>'$.metadata.client_ip', o->>'$.metadata.ip', o->>'$.metadata.customer_ip') AS src_ip,
  upper(coalesce(card->>'$.country', o->>'$.billing_details.address.country')) AS country,
  CASE WHEN zero_dec THEN try_cast(o->>'$.amount' AS DECIMAL(18,2)) ELSE try_cast(o->>'$.amount' AS DECIMAL(18,2)) / 100 END AS amount,
  upper(o->>'$.currency') AS currency,
  card->>'$.fingerprint' AS card_fingerprint,
  card->>'$.last4' AS card_last4,
  lower(card->>'$.brand') AS card_brand,
  coalesce(o->>'$.metadata.order_id', o->>'$.metadata.order') AS order_id,
  CASE WHEN o->>'$.object' = 'charge' THEN o->>'$.id' ELSE coalesce(o->>'$.charge', o->>'$.id') END AS transaction_id,
  json_object('event_id', line->>'$.id', 'object_id', o->>'$.id', 'risk_level', o->>'$.outcome.risk_level',
              'risk_score', try_cast(o->>'$.outcome.risk_score' AS INTEGER), 'outcome_type', o->>'$.outcome.type',
              'network_status', o->>'$.outcome.network_status', 'funding', card->>'$.funding',
              'cvc_check', card->>'$.checks.cvc_check', 'dispute_status', CASE WHEN o->>'$.object' = 'dispute' THEN o->>'$.status' END) AS attributes
FROM c
