"""Background jobs of the programmes; each area registers its tasks in its own module."""

from mentoring.tasks import (
    broadcasts,  # noqa: F401
    events,  # noqa: F401
    mentors,  # noqa: F401
    top_performers,  # noqa: F401
)
