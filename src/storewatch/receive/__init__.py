"""Pushed events: syslog over UDP and TCP, vendors' signed webhooks and a JSON-lines endpoint.

Nothing here maps or stores events. Whatever a sender pushes is checked (framing, signature, token), scrubbed of
card numbers and written ahead to spool files under `<home>/inbox/<source>/` before it is acknowledged; `ingest`
and `watch` read those files with the same readers as any other log, so pushed events get the same
normalization, deduplication and quarantine as files. What is refused or malformed is logged, counted and kept
(outside the inbox) with its reason.
"""
