"""Named errors of recruitment: referrals, referral codes and channels."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l


class ReferralStateConflict(Conflict):
    """The referral's status does not allow this action; `state` is the status."""

    title, type_slug = _l("Referral state does not allow this"), "referral-state-conflict"


class RewardNotPayable(Conflict):
    """A fraud signal stops the referral reward; `reason` names it. Refuse the referral."""

    title, type_slug = _l("Reward not payable"), "reward-not-payable"


class ReferralCodeDisabled(Conflict):
    """The referral code is disabled already."""

    title, type_slug = _l("Referral code disabled"), "referral-code-disabled"


class ChannelCodeTaken(Conflict):
    """A recruitment channel with this code exists already."""

    title, type_slug = _l("Channel code taken"), "channel-code-taken"
