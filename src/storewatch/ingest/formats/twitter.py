"""X / Twitter API v2 post objects, for brand monitoring."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys

FORMAT = Format(name="twitter", channel="social", sql=load_sql("twitter"),
                looks_like=lambda line: {"id", "text", "created_at"} <= json_keys(line) and bool({"author_id", "edit_history_tweet_ids", "entities", "lang"} & json_keys(line)),
                description="X/Twitter v2 posts")
