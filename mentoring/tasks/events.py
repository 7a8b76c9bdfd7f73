"""Background jobs of events: closing the ones that have ended."""

from crowd.core.background import task
from mentoring.events.service import finish_past_events


@task("mentoring.finish_events")
def finish_events() -> int:
    """Published events that have ended become done (periodic); attendance stays open."""
    return finish_past_events()
