"""Named errors of members: status changes their state does not allow."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l


class MemberStateConflict(Conflict):
    """The member's status does not allow this change (suspend, reinstate, offboard …);
    `state` is the status."""

    title, type_slug = _l("Member state does not allow this"), "member-state-conflict"


class MemberClosed(Conflict):
    """The account's member is suspended (reinstate them instead) or offboarded (final)."""

    title, type_slug = _l("Member closed"), "member-closed"
