"""Background jobs of onboarding; each area registers its tasks in its own module."""

from onboarding.tasks import (
    applications,  # noqa: F401  (registration by import)
    levels,  # noqa: F401  (registration by import)
)
