"""Background jobs of levels: the crowd-wide evaluation and the notifications of its changes."""

from __future__ import annotations

from crowd.core.background import task
from onboarding.levels.changes import notify_changes
from onboarding.levels.evaluation import evaluate_crowd


@task("onboarding.evaluate_levels")
def evaluate_levels(cause: str = "daily", detail: str | None = None) -> dict:
    """Evaluate the whole crowd against the active rule set (daily, and after an activation).

    Commits per chunk of changes; running it twice has the effect of once."""
    return evaluate_crowd(cause=cause, detail=detail)


@task("onboarding.notify_level_changes")
def notify_level_changes(change_ids: list[int]) -> int:
    """Notify the members of a batch of recorded level changes (once each)."""
    return notify_changes(change_ids)
