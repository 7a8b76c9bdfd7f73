"""The console's people search: one box for members, customers, jobs and tickets.

The query is read once — an id (`123` or `#123`), an email address, a phone number or the
start of a name — and each owning package answers with its own indexed lookup (members'
`find_members`, customers' `find_customers`, the jobs' and tickets' staff views by id).
Exact matches (id, email, phone) come first, then names; every group is capped at LIMIT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from accounts.service import user_id_for_email
from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from customers.service import find_customers
from jobs.queries import get_job
from members.service import find_members
from support.tickets.queue import get_ticket

LIMIT = 10
MAX_QUERY = 120
_ID = re.compile(r"#?(\d{1,18})")
_PHONE = re.compile(r"\+?[\d\s()/.-]{6,}")
_PHONE_NOISE = re.compile(r"[\s()/.-]")


@dataclass
class Results:
    """What a search found, by type."""

    query: str
    members: list = field(default_factory=list)
    customers: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    tickets: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.members) + len(self.customers) + len(self.jobs) + len(self.tickets)


def _phones(text: str) -> list[str]:
    """The number as typed and without spaces, dashes, dots, slashes and brackets."""
    compact = _PHONE_NOISE.sub("", text)
    return list(dict.fromkeys([text, compact]))


def search(actor: Principal, query: str, *, limit: int = LIMIT) -> Results:
    """Members, customers, jobs and tickets matching `query` (staff only, via the services)."""
    text = " ".join(query.split())[:MAX_QUERY]
    results = Results(query=text)
    if not text:
        return results
    by_id = _ID.fullmatch(text)
    if by_id:
        number = int(by_id.group(1))
        results.members = find_members(actor=actor, member_id=number, limit=limit)
        results.customers = find_customers(actor=actor, customer_id=number, limit=limit)
        results.jobs = _found(get_job, actor=actor, job_id=number)
        results.tickets = _found(get_ticket, actor=actor, ticket_id=number)
        if not _PHONE.fullmatch(text) or text.startswith("#"):
            return results
    if "@" in text:
        user_id = user_id_for_email(text)
        if user_id is not None:
            results.members = find_members(actor=actor, user_id=user_id, limit=limit)
            results.customers = find_customers(actor=actor, user_id=user_id, limit=limit)
        return results
    if _PHONE.fullmatch(text) and sum(c.isdigit() for c in text) >= 6:
        for phone in _phones(text):
            _add(results.members, find_members(actor=actor, phone=phone, limit=limit), limit)
            _add(results.customers, find_customers(actor=actor, phone=phone, limit=limit), limit)
        return results
    results.members = find_members(actor=actor, name_prefix=text, limit=limit)
    results.customers = find_customers(actor=actor, name_prefix=text, limit=limit)
    return results


def _found(lookup, **kwargs) -> list[dict]:
    try:
        return [lookup(**kwargs)]
    except NotFound:
        return []


def _add(into: list, found: list, limit: int) -> None:
    known = {item.id for item in into}
    into.extend(item for item in found if item.id not in known)
    del into[limit:]
