"""A member's level follows their record: a confirmed job or a published review of their work
may promote them at once; their commission plan follows their level."""

from __future__ import annotations

from crowd.core.events import Event, subscribe
from crowd.extensions import db
from onboarding.levels.evaluation import promote_on_event
from onboarding.levels.plans import follow_level, follow_levels
from onboarding.models import LevelChange


@subscribe("job.confirmed")
def evaluate_level(event: Event) -> None:
    """Promote the job's member if their record now meets a higher level (never demotes)."""
    member_id = event.payload["member_id"]
    if member_id is not None:
        promote_on_event(member_id, cause=f"job.confirmed:{event.subject_id}")


@subscribe("review.published")
def evaluate_level_on_review(event: Event) -> None:
    """A customer's review of the member counts in their rating: promote if it now suffices."""
    if event.payload["about"] == "member":
        promote_on_event(event.payload["member_id"], cause=f"review.published:{event.subject_id}")


@subscribe("level.changed")
def plan_follows_level(event: Event) -> None:
    """A promotion gives the new level's plan; a demotion takes away one it does not offer."""
    change = db.session.get(LevelChange, event.payload["change_id"])
    if change is not None:
        follow_level(change)


@subscribe("level.changes_recorded")
def plans_follow_levels(event: Event) -> None:
    """The same for a chunk of the crowd-wide run's changes, set-based."""
    follow_levels([change["change_id"] for change in event.payload["changes"]])
