"""A report that reads well on paper: long values shortened with the full text in an appendix, the
highest-risk incidents in full and the rest in one line, progress told stage by stage."""

from __future__ import annotations

import re

import pytest

from storewatch.report import write_report
from storewatch.report.appendix import Appendix, clip, clip_words
from storewatch.report.collect import in_detail
from tests.report.support import build_hostile_workspace

HASH = "fa99a4f40ee2bffeef65bf592b4d7d57bf762a3b0c20d64143b3fb1aacc21760"


def test_long_values_are_shortened_once_and_numbered():
    appendix = Appendix(width=20)
    first = appendix.value(HASH)
    assert first == ('<span class="clipped">fa99a4f40ee2…c21760</span><sup><a href="#full-1">1</a></sup>')
    assert appendix.value(HASH) == first  # the same value keeps its number
    assert appendix.value("short") == "short"
    assert appendix.listed() == [(1, HASH)]


def test_only_overlong_words_of_a_sentence_are_shortened_and_all_is_escaped():
    appendix = Appendix(width=20)
    text = appendix.text(f"ran <b> C:\\Users\\pos0201\\AppData\\Roaming\\x.exe then {HASH}")
    assert text.startswith("ran &lt;b&gt; ")
    assert "x.exe then" not in text and " then " in text
    assert [n for n, _ in appendix.listed()] == [1, 2]
    quoted = appendix.text(f"wrote “{HASH}”, then")
    assert quoted.startswith("wrote “<span") and quoted.endswith("</sup>”, then")
    assert appendix.listed()[-1] == (2, HASH)  # without its quotes and comma: the same value, the same number
    assert clip(HASH, None) == HASH and clip_words(HASH, None) == HASH  # the dashboard: unchanged


def test_detail_goes_to_the_highest_risk_and_to_a_severity_floor():
    incidents = [{"severity": s} for s in ("critical", "low", "high", "medium", "high")]
    assert in_detail(incidents, 2, None) == [True, True, False, False, False]
    assert in_detail(incidents, 1, "high") == [True, False, True, False, True]
    assert in_detail(incidents, 0, None) == [False] * 5


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return build_hostile_workspace(tmp_path_factory.mktemp("pagination"))


def test_report_gives_one_incident_in_full_and_the_others_in_a_line(hostile, tmp_path):
    stages: list[tuple[str, int, int]] = []
    html = write_report(hostile, tmp_path / "r.html", detail=1,
                        progress=lambda *s: stages.append(s)).read_text()
    assert len(re.findall(r'<section class="incident" id="INC-', html)) == 1
    others = html.split('<section id="others">', 1)[1].split("</section>", 1)[0]
    assert len(re.findall(r'<li id="INC-', others)) == 2
    assert "1 of 3 incidents in full detail (the 1 highest risk)" in html
    assert ("forensic timelines", 3, 3) in stages and stages[-1] == ("HTML", 1, 1)
