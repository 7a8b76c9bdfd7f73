"""Data exports: a person asks (or an admin asks for them), the archive is assembled in the
background, announced in their inbox and downloadable once, for PRIVACY_EXPORT_DAYS.

One export in the making per person: the request locks the person's user row, and a partial
unique index on pending exports is the last line. A person asks again at most once per
PRIVACY_EXPORT_INTERVAL_HOURS (failed exports and those admins asked for do not count;
admins are not limited). The
download hands out one short-lived URL and marks the export downloaded; a later call is 410,
and the archive is deleted once that URL has lapsed — or at expiry when it was never fetched.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from accounts.authentication import profiles_of
from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import db, is_contention, utcnow
from crowd.core.errors import NotFound
from crowd.core.files import service as files
from crowd.core.files.models import DATA_EXPORT
from crowd.core.files.storage import file_settings
from crowd.core.i18n import _, _l
from crowd.core.locking import ROW_LOCK
from crowd.core.pagination import paginate
from notifications.service import notify
from privacy.config import export_rules
from privacy.errors import ExportGone, ExportInProgress, ExportNotReady, ExportTooSoon
from privacy.export import archive
from privacy.export.sections import Person
from privacy.models.exports import DataExport

log = logging.getLogger(__name__)

BUILD_TASK = "privacy.build_export"
DISCARD_TASK = "privacy.discard_export"
READY_KIND = "data_export.ready"
FAILED_KIND = "data_export.failed"
# A pending export this old lost its background run for good (the outbox gave up on it): it
# counts as failed, so the person may ask again.
STALE_AFTER = timedelta(hours=24)
# The archive outlives its download URL by this much (a download begun just before the URL
# lapsed may finish).
DOWNLOAD_GRACE = timedelta(minutes=5)


# --- asking ----------------------------------------------------------------------------------


def request_export(*, actor: Principal) -> DataExport:
    """An export of the caller's own data, assembled in the background."""
    return _start(user_id=actor.user_id, requested_by_id=actor.user_id, limited=True)


def request_export_for(*, actor: Principal, user_id: int) -> DataExport:
    """An admin's request of a user's export (the user is told and downloads it)."""
    return _start(user_id=user_id, requested_by_id=actor.user_id, limited=False)


def _start(*, user_id: int, requested_by_id: int, limited: bool) -> DataExport:
    user = db.session.get(User, user_id, with_for_update=ROW_LOCK, populate_existing=True)
    if user is None:
        raise NotFound(_("No such user."))
    now = utcnow()
    latest = db.session.scalar(
        select(DataExport)
        .where(DataExport.user_id == user_id)
        .order_by(DataExport.id.desc())
        .limit(1)
    )
    if latest is not None and latest.status == "pending":
        if latest.created_at > now - STALE_AFTER:
            raise ExportInProgress(
                _("An export of this data is being assembled; you will be told when it is ready.")
            )
        _fail(latest)
    interval = timedelta(hours=export_rules().export_interval_hours)
    if limited and interval:
        last = db.session.scalar(
            select(DataExport.created_at)
            .where(
                DataExport.user_id == user_id,
                DataExport.requested_by_id == user_id,
                DataExport.status != "failed",
            )
            .order_by(DataExport.id.desc())
            .limit(1)
        )
        if last is not None and last > now - interval:
            wait = int((last + interval - now).total_seconds()) + 1
            error = ExportTooSoon(
                _("You may ask for a new export in {hours} hour(s).", hours=-(-wait // 3600))
            )
            error.headers = {"Retry-After": str(wait)}
            raise error
    export = DataExport(user_id=user_id, requested_by_id=requested_by_id, status="pending")
    export.created_at = now
    db.session.add(export)
    db.session.flush()
    enqueue(BUILD_TASK, export_id=export.id, dedupe_key=f"{BUILD_TASK}:{export.id}")
    return export


# --- reading ---------------------------------------------------------------------------------


def list_exports(*, actor: Principal, limit: int | None = None, cursor: str | None = None):
    """The caller's exports, newest first."""
    query = select(DataExport).where(DataExport.user_id == actor.user_id)
    return paginate(
        query, {"limit": limit, "cursor": cursor}, order=[DataExport.id], descending=True
    )


def get_export(*, actor: Principal, export_id: int) -> DataExport:
    """One of the caller's exports; anyone else's is a 404."""
    return _own(actor, export_id)


def _own(actor: Principal, export_id: int, *, lock: bool = False) -> DataExport:
    if lock:
        export = db.session.get(
            DataExport, export_id, with_for_update=ROW_LOCK, populate_existing=True
        )
    else:
        export = db.session.get(DataExport, export_id)
    if export is None or export.user_id != actor.user_id:
        raise NotFound(_("No such data export."))
    return export


def download(*, actor: Principal, export_id: int) -> files.Download:
    """The one download of a ready export: a short-lived URL, and the export is marked
    downloaded (a later call is 410). An expired one is retired on the spot (ExportGone, to be
    committed by the caller: see routes.keeping_retirements)."""
    export = _own(actor, export_id, lock=True)
    if export.status == "pending":
        raise ExportNotReady(_("The export is still being assembled."))
    if export.status == "ready" and export.expires_at <= utcnow():
        _retire(export)
    if export.status == "downloaded":
        raise ExportGone(_("This export was downloaded already; ask for a new one."))
    if export.status == "expired":
        raise ExportGone(_("This export has expired; ask for a new one."))
    if export.status == "failed":
        raise ExportGone(_("This export could not be assembled; ask for a new one."))
    link = files.download(export.file_id, filename=f"data-export-{export.id}.zip")
    if link is None:
        # The archive is gone (retention removed it): as good as expired.
        _retire(export)
        raise ExportGone(_("This export has expired; ask for a new one."))
    export.status = "downloaded"
    export.downloaded_at = utcnow()
    ttl = timedelta(seconds=file_settings().url_ttl_seconds)
    enqueue(
        DISCARD_TASK,
        export_id=export.id,
        run_at=utcnow() + ttl + DOWNLOAD_GRACE,
        dedupe_key=f"{DISCARD_TASK}:downloaded:{export.id}",
    )
    return link


# --- the background work -----------------------------------------------------------------------


def build_export(export_id: int) -> None:
    """Assemble the export's archive, store it, and tell the person (again: nothing to do)."""
    export = db.session.get(DataExport, export_id, with_for_update=ROW_LOCK, populate_existing=True)
    if export is None or export.status != "pending":
        return
    user = db.session.get(User, export.user_id)
    profiles = profiles_of(user.id)
    person = Person(
        user_id=user.id,
        role=user.role,
        member_id=profiles.get("member_id"),
        customer_id=profiles.get("customer_id"),
        locale=user.locale,
    )
    try:
        # In a savepoint: a failed statement on PostgreSQL leaves the transaction usable for
        # recording the failure.
        with db.session.begin_nested():
            data = archive.build(person)
    except Exception as error:
        if is_contention(error):
            raise
        # A defect or a storage failure: the person is told and may ask again; the cause is
        # in the log.
        log.exception("data export %s could not be assembled", export.id)
        _fail(export)
        return
    stored = files.store_generated(
        owner_user_id=user.id,
        purpose=DATA_EXPORT,
        data=data,
        content_type="application/zip",
        extension="zip",
    )
    now = utcnow()
    export.file_id = stored.id
    export.status = "ready"
    export.ready_at = now
    export.expires_at = now + timedelta(days=export_rules().export_days)
    enqueue(
        DISCARD_TASK,
        export_id=export.id,
        run_at=export.expires_at,
        dedupe_key=f"{DISCARD_TASK}:expiry:{export.id}",
    )
    notify(
        user.id,
        READY_KIND,
        _l("Your data export is ready"),
        _l(
            "Download it once in the app before {date} (UTC); after that it is deleted.",
            date=export.expires_at.strftime("%Y-%m-%d %H:%M"),
        ),
        dedupe_key=f"{READY_KIND}:{export.id}",
        export_id=export.id,
    )


def discard_export(export_id: int) -> None:
    """Delete a downloaded export's archive once its URL has lapsed, or an expired one's."""
    export = db.session.get(DataExport, export_id, with_for_update=ROW_LOCK, populate_existing=True)
    if export is None:
        return
    if export.status == "ready" and export.expires_at <= utcnow():
        _retire(export)
    elif export.status == "downloaded" and export.file_id is not None:
        files.discard(export.file_id)


def _retire(export: DataExport) -> None:
    """An export past its time: expired, its archive deleted."""
    export.status = "expired"
    if export.file_id is not None:
        files.discard(export.file_id)


def _fail(export: DataExport) -> None:
    export.status = "failed"
    export.failed_at = utcnow()
    notify(
        export.user_id,
        FAILED_KIND,
        _l("Your data export failed"),
        _l("We could not assemble your data export. Please ask for it again."),
        dedupe_key=f"{FAILED_KIND}:{export.id}",
        export_id=export.id,
    )
