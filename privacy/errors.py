"""Named errors of privacy."""

from __future__ import annotations

from crowd.core.errors import Conflict, DomainError, TooManyRequests
from crowd.core.i18n import _l

# --- data exports ----------------------------------------------------------------------------


class ExportInProgress(Conflict):
    """An export of this person's data is being assembled: wait for its notice."""

    title, type_slug = _l("Export in progress"), "export-in-progress"


class ExportTooSoon(TooManyRequests):
    """A new export only after PRIVACY_EXPORT_INTERVAL_HOURS since the last one (Retry-After)."""

    title, type_slug = _l("Export asked for too soon"), "export-too-soon"


class ExportGone(DomainError):
    """The export's archive is no longer downloadable: downloaded once already, expired, or it
    failed to be assembled."""

    status, title, type_slug = 410, _l("Export no longer available"), "export-gone"


class ExportNotReady(Conflict):
    """The export is still being assembled: its notice comes when it is ready."""

    title, type_slug = _l("Export not ready"), "export-not-ready"


# --- erasure ----------------------------------------------------------------------------------


class ErasureBlocked(Conflict):
    """The account cannot be erased yet: money in transit, an open dispute, ticket or
    chargeback, or an active job. `blocking` lists each as {kind, id}."""

    title, type_slug = _l("Erasure blocked"), "erasure-blocked"


class AlreadyErased(Conflict):
    """The account was erased already (`erasure_id` names the record); nothing changes."""

    title, type_slug = _l("Already erased"), "already-erased"


class AccountErased(Conflict):
    """Staff reactivate an erased account: it stays closed."""

    title, type_slug = _l("Account erased"), "account-erased"
