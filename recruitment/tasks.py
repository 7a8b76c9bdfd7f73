"""Background jobs of recruitment: a referral's check, and the daily sweep."""

from __future__ import annotations

from crowd.core.background import task
from crowd.core.db import commit
from recruitment.codes import active_members_without_code, issue_code
from recruitment.referrals import check_referral, due_member_ids


@task("recruitment.check_referral")
def check_member_referral(referred_member_id: int) -> str | None:
    """Act on the member's open referral (lapse, hold, refuse or reward once); its status."""
    referral = check_referral(referred_member_id)
    return referral.status if referral else None


@task("recruitment.sweep_referrals")
def sweep_referrals() -> dict:
    """Daily catch-up: codes for active members without one, then every open referral whose
    milestone is reached or whose member left. Commits per member."""
    issued = 0
    for member_id in active_members_without_code():
        issue_code(member_id)
        issued += 1
    commit()
    checked = 0
    for member_id in due_member_ids():
        checked += check_referral(member_id) is not None
        commit()
    return {"codes_issued": issued, "referrals_checked": checked}
