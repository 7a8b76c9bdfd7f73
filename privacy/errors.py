"""Named errors of privacy."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l


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
