"""X / Twitter API v2 post objects, for brand monitoring."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys, json_value


def _looks_like(line: str) -> bool:
    """A v2 post: a numeric string id and text, with a field only posts carry (default fields included)."""
    keys = json_keys(line)
    post_id = json_value(line, "id")
    return ({"id", "text"} <= keys and isinstance(post_id, str) and post_id.isdigit()
            and bool({"created_at", "edit_history_tweet_ids", "author_id"} & keys))


FORMAT = Format(name="twitter", channel="social", sql=load_sql("twitter"), looks_like=_looks_like,
                description="X/Twitter v2 posts")
