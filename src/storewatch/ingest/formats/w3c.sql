-- W3C extended log format (IIS's default, also Azure App Service and other Microsoft servers): space-separated
-- fields named by the `#Fields:` directive, `-` for none, spaces inside values written as `+`, UTC times.
-- `w3c.py` puts the file's fields into the structure `w` (one key per field this mapping reads) in place of
-- the placeholder below, choosing for each line the `#Fields` header whose field count it has.
WITH w AS (
  {parse}
)
SELECT
  line_no,
  CASE WHEN w IS NULL THEN 'field count matches no #Fields header of the file' END AS _error,
  -- `date`/`time` are UTC; IIS Advanced Logging's `date-local`/`time-local` are the server's clock (`--tz`)
  coalesce(timezone('UTC', try_strptime(w.date || ' ' || w.time, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f'])),
           sw_local(try_strptime(w."date-local" || ' ' || w."time-local", ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f']))) AS time,
  'HTTP Activity' AS class_name,
  coalesce(lower(w."cs-method"), 'malformed_request') AS activity,
  CASE WHEN try_cast(w."sc-status" AS INTEGER) < 400 THEN 'success' ELSE 'failure' END AS outcome,
  w."sc-status" || coalesce('.' || nullif(w."sc-substatus", '0'), '') AS event_code,
  split_part(w."c-ip", '%', 1) AS src_ip,  -- IIS writes IPv6 zone ids (`::1%0`)
  try_cast(w."c-port" AS INTEGER) AS src_port,
  split_part(w."s-ip", '%', 1) AS dst_ip,
  try_cast(w."s-port" AS INTEGER) AS dst_port,
  w."cs-username" AS user_name,
  w."s-computername" AS host,
  w."cs-method" AS http_method,
  coalesce(sw_url_host(w."cs-uri-stem"), lower(split_part(coalesce(w."cs-host", w."cs(Host)"), ':', 1))) AS url_host,
  coalesce(sw_url_path(w."cs-uri-stem"), sw_url_path(w."cs-uri")) AS url_path,
  coalesce(w."cs-uri-query", sw_url_query(w."cs-uri")) AS url_query,
  w."cs-version" AS protocol,
  try_cast(w."sc-status" AS INTEGER) AS http_status,
  try_cast(w."sc-bytes" AS BIGINT) AS bytes_in,
  try_cast(w."cs-bytes" AS BIGINT) AS bytes_out,
  try_cast(coalesce(w."time-taken", w.TimeTakenMS) AS DOUBLE) / 1000 AS duration,
  w."cs(Referer)" AS referrer,  -- a URL: its `+` may be its own
  replace(w."cs(User-Agent)", '+', ' ') AS user_agent,
  json_object('site', w."s-sitename", 'substatus', w."sc-substatus", 'win32_status', w."sc-win32-status",
              'forwarded_for', CASE WHEN w."x-forwarded-for" IS NOT NULL THEN regexp_split_to_array(w."x-forwarded-for", '\s*,\s*') END,
              'cookie_present', w."cs(Cookie)" IS NOT NULL) AS attributes
FROM w
