"""Alert summaries read as sentences: evidence lists are named as text, never as Python lists."""

from __future__ import annotations

from storewatch.correlate.summary import render, split_summary


def test_evidence_lists_read_as_text_not_python():
    text = render("{host} ran {sample_command_lines}.", {
        "host": "POS-01", "sample_command_lines": ["C:\\Windows\\System32\\certutil.exe -decode a b"]})
    assert text == "POS-01 ran “C:\\Windows\\System32\\certutil.exe -decode a b”."
    assert "['" not in text and "\\\\" not in text


def test_long_lists_are_cut_with_a_count_and_empty_ones_stay_visible():
    many = render("by {sample_users}", {"sample_users": ["a", "b", "c", "d", "e"]})
    assert many == "by “a”, “b”, “c” and 2 more"
    assert render("by {sample_users}", {"sample_users": []}) == "by ?"


def test_plain_values_and_format_specs_are_unchanged():
    assert render("{events} events from {ip}, {share:.0%}", {"events": 12, "ip": "10.0.0.1", "share": 0.5}) == \
        "12 events from 10.0.0.1, 50%"


def test_split_summary_separates_the_story_from_the_particulars():
    story, rest = split_summary("Between a and b, 2 alerts point to card testing. Card x. Involved: ip 1.2.3.4. Risk 90.")
    assert story == "Between a and b, 2 alerts point to card testing. Card x."
    assert rest == "Involved: ip 1.2.3.4. Risk 90."
    assert split_summary("no particulars") == ("no particulars", "")
