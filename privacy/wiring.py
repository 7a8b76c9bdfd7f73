"""What privacy plugs into lower packages: an erased account is never reactivated."""

from sqlalchemy import select

from accounts.lifecycle import add_reopen_guard
from crowd.core.i18n import _
from crowd.extensions import db
from privacy.errors import AccountErased
from privacy.models import Erasure


def refuse_erased(user_id: int) -> None:
    """409: an erased account stays closed (its person and credentials are gone)."""
    if db.session.scalar(select(Erasure.id).where(Erasure.user_id == user_id)) is not None:
        raise AccountErased(_("This account was erased; it stays closed."), state="erased")


add_reopen_guard(refuse_erased)
