"""Uploads: a pending row and a presigned URL, the client's PUT, the confirmation that checks
the content and keeps a clean copy, and short-lived download URLs for whoever may read it.

Objects are written before the commit under keys derived from the upload's own (a rerun after
contention writes the same keys again) and deleted only after the commit, by a background task,
so a rolled-back unit of work never loses an object its rows still name.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import db, utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.files import images, pdfs
from crowd.core.files.errors import FileNotPending, FileRejected, TooLargeBody
from crowd.core.files.models import (  # noqa: F401  (the purposes, for the domains using files)
    DATA_EXPORT,
    IDENTITY_DOCUMENT,
    INSURANCE_CERTIFICATE,
    MEMBER_PURPOSES,
    PDF_PURPOSES,
    PROFILE_PHOTO,
    SIGNATURE,
    TICKET_ATTACHMENT,
    WORK_PHOTO,
    StoredFile,
)
from crowd.core.files.storage import FileMissing, TooLarge, file_settings, storage
from crowd.core.i18n import _
from crowd.core.locking import ROW_LOCK

DELETE_TASK = "files.delete_objects"
THUMBNAIL_TASK = "files.make_thumbnail"


@dataclass(frozen=True)
class Upload:
    """A new upload: its row and where the client sends the bytes until `expires_at`."""

    file: StoredFile
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime

    @property
    def id(self) -> int:
        return self.file.id

    @property
    def purpose(self) -> str:
        return self.file.purpose

    @property
    def status(self) -> str:
        return self.file.status

    @property
    def upload(self) -> dict:
        return {"url": self.url, "method": self.method, "headers": self.headers}


def _max_bytes(purpose: str) -> int:
    """The purpose's size limit: a PDF may be larger than a photo."""
    settings = file_settings()
    if purpose in PDF_PURPOSES:
        return max(settings.max_image_bytes, settings.max_document_bytes)
    return settings.max_image_bytes


def create_upload(*, actor: Principal, purpose: str, content_type_hint: str, size: int) -> Upload:
    """A pending file of the caller's and a presigned URL to PUT its bytes to."""
    if purpose in MEMBER_PURPOSES and actor.member_id is None:
        raise field_error("purpose", _("Only crowd members upload files for this purpose."))
    if content_type_hint == "application/pdf" and purpose not in PDF_PURPOSES:
        raise field_error("content_type_hint", _("This purpose takes images only."))
    limit = _max_bytes(purpose)
    if size > limit:
        raise field_error("size", _("The file is larger than {limit} bytes.", limit=limit))
    settings = file_settings()
    file = StoredFile(
        key=f"uploads/{uuid.uuid4().hex}",
        owner_user_id=actor.user_id,
        purpose=purpose,
        status="pending",
        created_at=utcnow(),
    )
    db.session.add(file)
    db.session.flush()
    ttl = settings.url_ttl_seconds
    presigned = storage().upload_url(
        file.key, content_type=content_type_hint, size=size, max_bytes=limit, ttl=ttl
    )
    return Upload(
        file=file,
        url=presigned.url,
        method=presigned.method,
        headers=presigned.headers,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )


def _own_file(actor: Principal, file_id: int, *, lock: bool = False) -> StoredFile:
    """The caller's file (locked when asked); 404 for anyone else's, staff included."""
    if lock:
        file = db.session.get(StoredFile, file_id, with_for_update=ROW_LOCK, populate_existing=True)
    else:
        file = db.session.get(StoredFile, file_id)
    if file is None or file.owner_user_id != actor.user_id or file.status == "deleted":
        raise NotFound(_("No such file."))
    return file


def get_file(*, actor: Principal, file_id: int) -> StoredFile:
    """One of the caller's files."""
    return _own_file(actor, file_id)


def put_content(
    *, actor: Principal, file_id: int, content_type: str, read: Callable[[int], bytes]
) -> None:
    """The bytes of a pending upload of the caller's, through the API (small files): read in
    chunks with `read(n)` and refused (413) as soon as they pass the purpose's limit."""
    file = _own_file(actor, file_id, lock=True)
    if file.status != "pending":
        raise FileNotPending(_("This file is {status}: upload a new one.", status=file.status))
    limit = _max_bytes(file.purpose)
    chunks, total = [], 0
    while chunk := read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise TooLargeBody(_("Uploads are limited to {limit} bytes.", limit=limit))
        chunks.append(chunk)
    if not total:
        raise field_error("file", _("The body is empty: send the file's bytes."))
    storage().put(file.key, b"".join(chunks), content_type=content_type)


def _reject(file: StoredFile, message: str) -> FileRejected:
    file.status = "rejected"
    enqueue(DELETE_TASK, keys=[file.key])
    return FileRejected(f"file: {message}", errors={"json": {"file": [message]}})


def confirm(*, actor: Principal, file_id: int) -> StoredFile:
    """Check the uploaded content and keep a clean copy: the file is `ready`, or `rejected`
    (FileRejected, to be committed by the caller: see routes.keeping_rejections)."""
    file = _own_file(actor, file_id, lock=True)
    if file.status == "ready":
        return file
    if file.status != "pending":
        raise FileNotPending(_("This file is {status}: upload a new one.", status=file.status))
    limit = _max_bytes(file.purpose)
    try:
        raw = storage().get(file.key, max_bytes=limit)
    except FileMissing:
        raise field_error("file", _("Nothing was uploaded for this file yet.")) from None
    except TooLarge:
        raise _reject(file, _("The file is larger than {limit} bytes.", limit=limit)) from None
    token = file.key.rsplit("/", 1)[-1]
    if file.purpose in PDF_PURPOSES and pdfs.looks_like_pdf(raw):
        try:
            document = pdfs.clean_pdf(raw)
        except pdfs.NotAPdf:
            raise _reject(file, _("The PDF cannot be read (or is encrypted).")) from None
        clean_key = f"documents/{token}.pdf"
        storage().put(clean_key, document.data, content_type=document.content_type)
        _ready(file, clean_key, document.data, document.content_type)
        return file
    try:
        clean = images.clean_image(raw)
    except images.NotAnImage:
        if file.purpose in PDF_PURPOSES:
            message = _("The file is not a JPEG, PNG or WebP image or a PDF.")
        else:
            message = _("The file is not a JPEG, PNG or WebP image.")
        raise _reject(file, message) from None
    clean_key = f"images/{token}.{clean.extension}"
    storage().put(clean_key, clean.data, content_type=clean.content_type)
    _ready(file, clean_key, clean.data, clean.content_type)
    file.width, file.height = clean.width, clean.height
    enqueue(THUMBNAIL_TASK, file_id=file.id, dedupe_key=f"files.thumbnail:{file.id}")
    return file


def _ready(file: StoredFile, key: str, data: bytes, content_type: str) -> None:
    """The file's clean copy is under `key`; the upload goes after the commit."""
    enqueue(DELETE_TASK, keys=[file.key])
    file.key = key
    file.status = "ready"
    file.content_type = content_type
    file.size = len(data)
    file.sha256 = hashlib.sha256(data).hexdigest()
    file.confirmed_at = utcnow()


def store_generated(
    *, owner_user_id: int, purpose: str, data: bytes, content_type: str, extension: str
) -> StoredFile:
    """A file the system made for a user (a data export): stored and ready at once. The
    object is written before the commit; a rolled-back caller leaves it unnamed (the
    abandoned-object sweep of the storage's lifecycle rules removes it)."""
    key = f"generated/{uuid.uuid4().hex}.{extension}"
    storage().put(key, data, content_type=content_type)
    now = utcnow()
    file = StoredFile(
        key=key,
        owner_user_id=owner_user_id,
        purpose=purpose,
        status="ready",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        created_at=now,
        confirmed_at=now,
    )
    db.session.add(file)
    db.session.flush()
    return file


def ready_file(*, owner_user_id: int, file_id: int, purpose: str, field: str) -> StoredFile:
    """A ready file of `purpose` that the user owns, locked; a 422 naming `field` otherwise."""
    file = db.session.get(StoredFile, file_id, with_for_update=ROW_LOCK, populate_existing=True)
    if file is None or file.owner_user_id != owner_user_id or file.purpose != purpose:
        raise field_error(field, _("No such file of yours for this purpose."))
    if file.status != "ready":
        raise field_error(field, _("The file is not confirmed yet."))
    return file


def discard(file_id: int) -> None:
    """Mark a file deleted; its objects go after the commit."""
    file = db.session.get(StoredFile, file_id, with_for_update=ROW_LOCK, populate_existing=True)
    if file is None or file.status == "deleted":
        return
    keys = [key for key in (file.key, file.thumbnail_key) if key]
    file.status = "deleted"
    file.deleted_at = utcnow()
    enqueue(DELETE_TASK, keys=keys)


def discard_many(file_ids: Collection[int], *, now: datetime | None = None) -> list[int]:
    """Mark a batch of files deleted in one statement (retention); their objects go after the
    commit, in one task. Returns the ids it marked (not those deleted already)."""
    if not file_ids:
        return []
    ids = sorted(set(file_ids))
    rows = db.session.execute(
        select(StoredFile.id, StoredFile.key, StoredFile.thumbnail_key)
        .where(StoredFile.id.in_(ids), StoredFile.status != "deleted")
        .order_by(StoredFile.id)
        .with_for_update(key_share=True)
    ).all()
    if not rows:
        return []
    marked = [row.id for row in rows]
    db.session.execute(
        update(StoredFile)
        .where(StoredFile.id.in_(marked))
        .values(status="deleted", deleted_at=now or utcnow()),
        execution_options={"synchronize_session": False},
    )
    keys = [key for row in rows for key in (row.key, row.thumbnail_key) if key]
    enqueue(DELETE_TASK, keys=keys)
    return marked


@dataclass(frozen=True)
class Download:
    url: str
    thumbnail_url: str | None
    expires_at: datetime


def download(file_id: int, *, filename: str) -> Download | None:
    """Short-lived URLs of a ready file and its thumbnail (None while it has none yet); None
    when the file is not ready. The caller has authorised the reader already."""
    file = db.session.get(StoredFile, file_id)
    if file is None or file.status != "ready":
        return None
    ttl = file_settings().url_ttl_seconds
    store = storage()
    url = store.download_url(file.key, content_type=file.content_type, filename=filename, ttl=ttl)
    thumbnail_url = None
    if file.thumbnail_key:
        thumbnail_url = store.download_url(
            file.thumbnail_key, content_type="image/jpeg", filename=f"thumb-{filename}", ttl=ttl
        )
    return Download(url, thumbnail_url, utcnow() + timedelta(seconds=ttl))


def extension(file_id: int) -> str:
    """The file's extension by its detected type (for download names)."""
    file = db.session.get(StoredFile, file_id)
    known = dict(images.FORMATS.values())
    known["application/pdf"] = "pdf"
    known["application/zip"] = "zip"
    if file is not None and file.content_type in known:
        return known[file.content_type]
    return "bin"


def make_thumbnail(file_id: int) -> None:
    """Write the thumbnail of a ready image (again, if it runs twice)."""
    file = db.session.get(StoredFile, file_id, with_for_update=ROW_LOCK, populate_existing=True)
    if file is None or file.status != "ready" or file.thumbnail_key:
        return
    small = images.thumbnail(storage().get(file.key))
    key = f"thumbs/{file.key.rsplit('/', 1)[-1].split('.')[0]}.jpg"
    storage().put(key, small, content_type="image/jpeg")
    file.thumbnail_key = key


def delete_objects(keys: list[str]) -> None:
    """Remove objects from storage (none there: nothing to do)."""
    store = storage()
    for key in keys:
        store.delete(key)
