"""Cases: what analysts do with incidents (lifecycle, assignee, comments, attachments, merge/split, SLA)."""
