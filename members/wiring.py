"""What members plugs into lower packages: the caller's member profile on the principal, and
the rule that a suspended or offboarded member's account is not reopened by reactivation."""

from sqlalchemy import select

from accounts.authentication import add_profile
from accounts.lifecycle import add_reopen_guard
from accounts.models import User
from crowd.core.i18n import _
from crowd.extensions import db
from members.errors import MemberClosed
from members.models import Member
from members.service import CLOSED_MEMBER_STATES

add_profile(
    "member_id",
    lambda: select(Member.id).where(Member.user_id == User.id).scalar_subquery(),
)


def refuse_closed_member(user_id: int) -> None:
    """409: reinstate a suspended member instead; an offboarded member's account stays closed."""
    status = db.session.scalar(select(Member.status).where(Member.user_id == user_id))
    if status in CLOSED_MEMBER_STATES:
        raise MemberClosed(
            _(
                "The member is {status}: reinstate a suspended member "
                "instead; an offboarded member's account stays closed.",
                status=status,
            ),
            state=status,
        )


add_reopen_guard(refuse_closed_member)
