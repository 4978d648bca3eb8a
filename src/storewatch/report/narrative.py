"""The executive summary in plain language: what was found, how bad, what money, what to do first."""

from __future__ import annotations

from typing import Mapping, Sequence

from storewatch.report.aggregate import format_money

URGENT = ("critical", "high")
DISMISSED = "false_positive"  # a resolution (storewatch.cases)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def overview(incidents: Sequence[Mapping], counts: Mapping[str, int], events: int, period: str) -> str:
    if not incidents:
        return f"storewatch examined {_plural(events, 'event')} ({period}) and found no incidents."
    by_severity = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    dismissed = sum(1 for i in incidents if i.get("resolution") == DISMISSED)
    text = (f"storewatch examined {_plural(events, 'event')} ({period}) and found "
            f"{_plural(len(incidents), 'incident')}: {by_severity}.")
    if dismissed:
        text += f" Analysts marked {dismissed} of them as false positives."
    return text


def money_sentence(incidents: Sequence[Mapping], total: Mapping[str, float]) -> str:
    involved = [i for i in incidents if i["money"]]
    if not involved:
        return "No payment amounts were involved in the incidents found."
    return (f"Money at risk: {format_money(total)} across {_plural(len(involved), 'incident')} "
            f"(amounts in the alerts' evidence and the forensic blast radius).")


def first_steps(incidents: Sequence[Mapping], limit: int = 3) -> list[str]:
    """One line per urgent incident, highest risk first: what to contain and the command that plans it.

    The report only reads: it names the playbook dry run rather than running it (a dry run is recorded).
    """
    urgent = [i for i in incidents if i["severity"] in URGENT and i.get("resolution") != DISMISSED][:limit]
    if not urgent:
        rest = [i for i in incidents if i.get("resolution") != DISMISSED]
        return [f"Nothing is high or critical: review the {_plural(len(rest), 'remaining incident')} as time allows."] \
            if rest else ["Nothing needs action now."]
    steps = []
    for inc in urgent:
        named = ", ".join(f"{e['type']} {e['value']}" for e in inc["entities"][:3])
        more = f" and {len(inc['entities']) - 3} more" if len(inc["entities"]) > 3 else ""
        steps.append(f"{inc['id']}, {inc['title']}: contain {named or 'the systems involved'}{more}; "
                     f"see what the playbooks would do with storewatch respond {inc['id']}, then approve it or "
                     f"mark the incident a false positive.")
    return steps
