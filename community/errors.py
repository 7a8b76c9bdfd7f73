"""Named errors of the community: archived groups, locked threads, mutes, reports, limits."""

from __future__ import annotations

from crowd.core.errors import Conflict, TooManyRequests
from crowd.core.i18n import _l


class GroupArchived(Conflict):
    """The topic group is archived; it is read-only."""

    title, type_slug = _l("Group archived"), "group-archived"


class GroupSlugTaken(Conflict):
    """A topic group with this slug exists already."""

    title, type_slug = _l("Group slug taken"), "group-slug-taken"


class ThreadLocked(Conflict):
    """The thread is locked: no replies, no edits."""

    title, type_slug = _l("Thread locked"), "thread-locked"


class PostHidden(Conflict):
    """A hidden post cannot be edited."""

    title, type_slug = _l("Post hidden"), "post-hidden"


class EditWindowClosed(Conflict):
    """Posts can be edited only for a while after writing them."""

    title, type_slug = _l("Edit window closed"), "edit-window-closed"


class PostingRateLimited(TooManyRequests):
    """The member wrote the most posts allowed in an hour; try again later."""

    title, type_slug = _l("Posting rate limited"), "posting-rate-limited"


class AlreadyMuted(Conflict):
    """The member is muted already; lift that mute first."""

    title, type_slug = _l("Already muted"), "already-muted"


class MuteLifted(Conflict):
    """The mute was lifted already."""

    title, type_slug = _l("Mute lifted"), "mute-lifted"


class MuteEnded(Conflict):
    """The mute has ended already."""

    title, type_slug = _l("Mute ended"), "mute-ended"


class AlreadyReported(Conflict):
    """The caller reported this post already."""

    title, type_slug = _l("Already reported"), "already-reported"


class ReportAlreadyDecided(Conflict):
    """The report was upheld or dismissed already; `state` says which."""

    title, type_slug = _l("Report already decided"), "report-already-decided"
