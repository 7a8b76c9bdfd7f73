"""Background jobs of accounts: housekeeping of sign-in counts and reset links, alert digests."""

from accounts import alert_digests, lifecycle, throttle
from crowd.core.background import task


@task("accounts.purge_stale")
def purge_stale() -> int:
    """Forget old unlocked sign-in failure counts and expired or used reset links."""
    return throttle.purge_stale() + lifecycle.purge_reset_tokens()


@task("accounts.send_alert_digests")
def send_alert_digests() -> int:
    """One digest email per CM on an hourly or daily cadence and ended period (once each)."""
    return alert_digests.send_alert_digests()
