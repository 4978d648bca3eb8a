"""The incident page's timeline: groups by source, entity and hour, and pages of a fixed size."""

from __future__ import annotations

from storewatch.web.timeline_view import groups, members, page

EVENTS = [
    {"time": "2026-11-16T10:00:01Z", "source_format": "nginx", "entities": [{"type": "ip", "value": "1.2.3.4"}]},
    {"time": "2026-11-16T10:30:00Z", "source_format": "nginx",
     "entities": [{"type": "ip", "value": "1.2.3.4"}, {"type": "user", "value": "kim"}]},
    {"time": "2026-11-16T11:05:00Z", "source_format": "auth0", "entities": [{"type": "user", "value": "kim"}]},
    {"time": "2026-11-16T12:00:00Z", "source_format": None, "entities": []},
]


def test_groups_count_first_and_last_largest_first():
    by_source = groups(EVENTS, "source")
    assert by_source[0] == {"key": "nginx", "events": 2, "first": "2026-11-16T10:00:01Z", "last": "2026-11-16T10:30:00Z"}
    assert [g["key"] for g in by_source] == ["nginx", "auth0", "unknown"]


def test_an_event_counts_under_each_entity_and_hours_stay_in_order():
    by_entity = {g["key"]: g["events"] for g in groups(EVENTS, "entity")}
    assert by_entity == {"ip 1.2.3.4": 2, "user kim": 2, "no entity": 1}
    assert [g["key"] for g in groups(EVENTS, "hour")] == ["2026-11-16 10:00", "2026-11-16 11:00", "2026-11-16 12:00"]


def test_members_of_a_group_or_all():
    assert members(EVENTS, "entity", "user kim") == EVENTS[1:3]
    assert members(EVENTS, None, None) == EVENTS
    assert members(EVENTS, "source", "postgres") == []


def test_pages_are_clamped_and_say_where_they_are():
    items = list(range(120))
    second = page(items, 2)
    assert second["items"] == list(range(50, 100)) and (second["first"], second["last"], second["pages"]) == (51, 100, 3)
    assert page(items, 99)["number"] == 3 and page(items, 99)["items"] == list(range(100, 120))
    assert page(items, -1)["number"] == 1
    assert page([], 1) == {"items": [], "number": 1, "pages": 1, "total": 0, "first": 0, "last": 0}
