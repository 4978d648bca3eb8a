-- ARTS POSLog till transactions, one flattened JSON record per <Transaction> (see poslog.py for the keys).
-- device is '<store>-<workstation>' because workstation numbers only identify a till within a store;
-- transaction_id is '<store>-<workstation>-<sequence>' (sequence numbers are per till), falling back to
-- the export's own TransactionID when a part is missing.
SELECT
  line_no,
  CASE WHEN NOT json_valid(line) THEN 'invalid JSON'
       WHEN line->>'$.kind' IS NULL THEN 'not a POSLog transaction' END AS _error,
  sw_time(coalesce(line->>'$.end', line->>'$.begin')) AS time,
  'POS Transaction' AS class_name,
  line->>'$.kind' AS activity,
  line->>'$.kind' AS event_code,
  CASE WHEN lower(line->>'$.status') IN ('cancelled', 'canceled', 'aborted') THEN 'failure'
       WHEN lower(line->>'$.status') = 'suspended' THEN 'unknown'
       ELSE 'success' END AS outcome,
  line->>'$.status' AS reason,
  line->>'$.store_id' AS store_id,
  line->>'$.store_id' || '-' || (line->>'$.workstation_id') AS device,
  line->>'$.operator_id' AS employee_id,
  try_cast(line->>'$.total' AS DECIMAL(18,2)) AS amount,
  upper(line->>'$.currency') AS currency,
  line->>'$.card_last4' AS card_last4,
  line->>'$.card_brand' AS card_brand,
  coalesce(line->>'$.store_id' || '-' || (line->>'$.workstation_id') || '-' || (line->>'$.sequence'),
           line->>'$.transaction_ref') AS transaction_id,
  json_object(
    'business_day', line->>'$.business_day',
    'sequence', line->>'$.sequence',
    'status', line->>'$.status',
    'item_count', try_cast(line->>'$.item_count' AS INTEGER),
    'return_count', try_cast(line->>'$.return_count' AS INTEGER),
    'return_no_receipt_count', try_cast(line->>'$.return_no_receipt_count' AS INTEGER),
    'line_void_count', try_cast(line->>'$.line_void_count' AS INTEGER),
    'tender_types', nullif(array_to_string(list_sort(list_distinct(json_extract_string(line, '$.tenders[*].type'))), ','), ''),
    'refund_amount', try_cast(line->>'$.refund_amount' AS DECIMAL(18,2)),
    'voided_sequence', line->>'$.voided_sequence',
    'control', line->>'$.control',
    'operator_name', line->>'$.operator_name'
  ) AS attributes
FROM batch
