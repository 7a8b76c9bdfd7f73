"""Background jobs of accounts: housekeeping of sign-in counts and reset links."""

from accounts import lifecycle, throttle
from crowd.core.background import task


@task("accounts.purge_stale")
def purge_stale() -> int:
    """Forget old unlocked sign-in failure counts and expired or used reset links."""
    return throttle.purge_stale() + lifecycle.purge_reset_tokens()
