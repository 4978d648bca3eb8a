"""What a monitor does after each detection pass, besides detecting: send the incidents that became due,
pull the threat-intel feeds whose interval passed (retro-hunting what they add), retrain the models whose
schedule came. Each is the same call the batch commands make (`detect` notifies, `intel pull`, `models
train`), so a monitor and a cron job behave alike; each checks what is due itself and does nothing
otherwise. `storewatch watch` installs them as `detect.incremental.after_pass` hooks (a failing one is
logged and the others still run)."""

from __future__ import annotations

from storewatch.detect.engine import DetectReport
from storewatch.workspace import Workspace


def notify(ws: Workspace, report: DetectReport) -> None:
    from storewatch.respond.notify import dispatch

    dispatch(ws)


def pull_intel(ws: Workspace, report: DetectReport) -> None:
    from storewatch.detect import intel_feeds

    due = intel_feeds.due_pulls(ws)
    if due:
        intel_feeds.pull(ws, due)


def retrain(ws: Workspace, report: DetectReport) -> None:
    from storewatch.learn.models import retrain_due

    retrain_due(ws)


HOOKS = (notify, pull_intel, retrain)
