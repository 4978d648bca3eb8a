-- ARTS POSLog till transactions, one flattened JSON record per <Transaction> (see poslog.py for the keys).
-- device is '<store>-<workstation>' because workstation numbers only identify a till within a store;
-- transaction_id is '<store>-<workstation>-<sequence>' (sequence numbers are per till), falling back to
-- the export's own TransactionID when a part is missing. card_brand is the brand (Visa), never the kind:
-- credit/debit goes to attributes.card_type. Each record is parsed once (`from_json`).
WITH t AS (
  SELECT line_no, ok, CASE WHEN ok THEN from_json(line, '{
    "store_id": "VARCHAR", "workstation_id": "VARCHAR", "sequence": "VARCHAR", "transaction_ref": "VARCHAR",
    "business_day": "VARCHAR", "begin": "VARCHAR", "end": "VARCHAR", "operator_id": "VARCHAR",
    "operator_name": "VARCHAR", "currency": "VARCHAR", "status": "VARCHAR", "kind": "VARCHAR", "total": "VARCHAR",
    "item_count": "VARCHAR", "return_count": "VARCHAR", "return_no_receipt_count": "VARCHAR",
    "line_void_count": "VARCHAR", "tenders": "JSON", "card_last4": "VARCHAR", "card_brand": "VARCHAR",
    "card_type": "VARCHAR", "refund_amount": "VARCHAR", "change_amount": "VARCHAR", "voided_sequence": "VARCHAR",
    "control": "VARCHAR", "tender_control": "VARCHAR", "training": "BOOLEAN"}') END AS j
  FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch)
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON'
       WHEN j.kind IS NULL THEN 'not a POSLog transaction' END AS _error,
  sw_time(coalesce(j.end, j.begin)) AS time,
  'POS Transaction' AS class_name,
  -- a training-mode transaction moved no money: its kind stays in event_code, never a sale, return or void
  CASE WHEN j.training THEN 'training' ELSE j.kind END AS activity,
  j.kind AS event_code,
  CASE WHEN lower(j.status) IN ('cancelled', 'canceled', 'aborted') THEN 'failure'
       WHEN lower(j.status) = 'suspended' THEN 'unknown'
       ELSE 'success' END AS outcome,
  j.status AS reason,
  j.store_id AS store_id,
  j.store_id || '-' || j.workstation_id AS device,
  j.operator_id AS employee_id,
  try_cast(j.total AS DECIMAL(18,2)) AS amount,
  upper(j.currency) AS currency,
  j.card_last4 AS card_last4,
  j.card_brand AS card_brand,
  coalesce(j.store_id || '-' || j.workstation_id || '-' || j.sequence, j.transaction_ref) AS transaction_id,
  json_object(
    'business_day', j.business_day,
    'sequence', j.sequence,
    'status', j.status,
    'item_count', try_cast(j.item_count AS INTEGER),
    'return_count', try_cast(j.return_count AS INTEGER),
    'return_no_receipt_count', try_cast(j.return_no_receipt_count AS INTEGER),
    'line_void_count', try_cast(j.line_void_count AS INTEGER),
    'tender_types', nullif(array_to_string(list_sort(list_distinct(json_extract_string(j.tenders, '$[*].type'))), ','), ''),
    'refund_amount', try_cast(j.refund_amount AS DECIMAL(18,2)),
    'change_amount', try_cast(j.change_amount AS DECIMAL(18,2)),
    'card_type', j.card_type,
    'tender_control', j.tender_control,
    'training', j.training,
    'voided_sequence', j.voided_sequence,
    'control', j.control,
    'operator_name', j.operator_name
  ) AS attributes
FROM t
