"""Background work of privacy: one module per area (their @task registrations)."""

from privacy.tasks import erasure, exports, retention  # noqa: F401
