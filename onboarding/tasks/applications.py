"""Background jobs of the application pipeline: house-rules notices and skill-test expiry."""

from crowd.core.background import task
from onboarding import house_rules
from onboarding.skill_tests import attempts


@task("onboarding.notify_house_rules")
def notify_house_rules(*, version_id: int, after_member_id: int, batch: int) -> int:
    """Tell the next batch of active and paused members about new house rules."""
    return house_rules.notify_batch(
        version_id=version_id, after_member_id=after_member_id, batch=batch
    )


@task("onboarding.expire_skill_test_attempt")
def expire_skill_test_attempt(*, attempt_id: int) -> bool:
    """Write down that a skill-test attempt ran out of time (scheduled at its expiry)."""
    return attempts.expire_if_due(attempt_id)
