"""Background jobs of the console: housekeeping of ended sessions."""

from console import sessions
from crowd.core.background import task


@task("console.purge_sessions")
def purge_sessions() -> int:
    """Forget console sessions that ended a month ago."""
    return sessions.purge_ended()
