"""Members' offer polling without the database: `GET /me/offers` answers 304 Not Modified when
the member's `If-None-Match` holds the ETag of the list as it still is.

The ETag is a keyed digest (crowd.core.stamps.signature) of the member, the query string and the
member's change stamp for their offers, read before the list was. Whatever changes what the
list shows renews that stamp after its commit (jobs.events): an offer of theirs sent,
answered, expired or withdrawn (a job taken by someone else, cancelled, staff-assigned …), and
their own location, from which distances are measured. The job's details an offer shows are
fixed once the job is posted. The one change without a write is time: the default list holds
pending offers not yet past `expires_at`, so its ETag also carries the first such moment
(`valid_until`) and stops matching then. A tag this server did not issue, or one for another
member or query, never matches.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from flask import Response
from sqlalchemy import func, select
from werkzeug.http import parse_etags

from crowd.core import stamps
from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Offer

# Part of every tag: a release that shows offers differently bumps it, and old tags go.
FORMAT = "1"
# More tags than this in one If-None-Match are not looked at (each costs a digest).
MAX_TAGS = 8


def offers_stamp(member_id: int) -> str:
    """The key of the member's offer-list stamp (crowd.core.stamps)."""
    return f"offers:member:{member_id}"


def touch_members(member_ids) -> None:
    """The members' offer lists change with this unit of work: new stamps after its commit."""
    stamps.touch(db.session(), *(offers_stamp(m) for m in member_ids if m is not None))


def _tag(member_id: int, stamp: str, query: bytes, valid_until_ms: int) -> str:
    digest = stamps.signature("offers", FORMAT, member_id, stamp, query, valid_until_ms)
    return f"{valid_until_ms:x}-{digest}"


def current_stamp(member_id: int) -> str | None:
    """The member's stamp now (None: the store is unreachable, answer from the database)."""
    found = stamps.read(offers_stamp(member_id))
    return found[0] if found else None


def not_modified(
    *, member_id: int, stamp: str | None, query: bytes, if_none_match: str | None
) -> Response | None:
    """A 304 when a tag in `if_none_match` is the list's current one, else None."""
    if stamp is None or not if_none_match:
        return None
    now_ms = int(utcnow().timestamp() * 1000)
    for tag in list(parse_etags(if_none_match).as_set(include_weak=True))[:MAX_TAGS]:
        if not tag:  # '""'
            continue
        head, _, _digest = tag.partition("-")
        try:
            valid_until_ms = int(head, 16)
        except ValueError:
            continue
        if valid_until_ms and valid_until_ms <= now_ms:
            continue
        if hmac.compare_digest(tag, _tag(member_id, stamp, query, valid_until_ms)):
            return Response(status=304, headers={"ETag": f'"{tag}"'})
    return None


def etag(*, member_id: int, stamp: str | None, query: bytes, args: dict, page: dict) -> str | None:
    """The ETag of `page`, the list as just read for `args` (None without a stamp)."""
    if stamp is None:
        return None
    until = _valid_until(member_id, args, page)
    valid_until_ms = int(until.timestamp() * 1000) if until is not None else 0
    return f'"{_tag(member_id, stamp, query, valid_until_ms)}"'


def _valid_until(member_id: int, args: dict, page: dict) -> datetime | None:
    """When the first offer listed as pending drops out of the list by time alone."""
    status = args.get("status")
    if status is None and args.get("updated_since") is None:
        status = "pending"
    if status != "pending":
        return None
    if not args.get("cursor") and page["page"]["next_cursor"] is None:
        # The page is the whole list: its own offers say it.
        return min((item["expires_at"] for item in page["items"]), default=None)
    return db.session.scalar(
        select(func.min(Offer.expires_at)).where(
            Offer.member_id == member_id, Offer.status == "pending", Offer.expires_at > utcnow()
        )
    )
