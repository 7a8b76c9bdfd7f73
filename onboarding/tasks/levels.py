"""Background jobs of levels: the crowd-wide evaluation and the notifications of its changes."""

from __future__ import annotations

from crowd.core.background import task
from onboarding.levels.changes import notify_changes
from onboarding.levels.evaluation import evaluate_crowd
from onboarding.levels.plans import follow_rules


@task("onboarding.evaluate_levels")
def evaluate_levels(cause: str = "daily", detail: str | None = None) -> dict:
    """Evaluate the whole crowd against the active rule set (daily, and after an activation).

    Commits per chunk of changes; running it twice has the effect of once. After an
    activation ("ruleset"), members who kept their rank get the plan the new rules give it."""
    result = evaluate_crowd(cause=cause, detail=detail)
    if cause == "ruleset":
        moved = follow_rules()
        if isinstance(result, dict):
            result = {**result, "plans_moved": moved}
    return result


@task("onboarding.notify_level_changes")
def notify_level_changes(change_ids: list[int]) -> int:
    """Notify the members of a batch of recorded level changes (once each)."""
    return notify_changes(change_ids)
