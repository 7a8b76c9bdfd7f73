"""HTTP for uploads: create, confirm, read back; and the local storage's signed URLs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, request
from werkzeug.exceptions import Forbidden, NotFound, RequestEntityTooLarge

from crowd.core.auth import current_principal
from crowd.core.db import commit
from crowd.core.files import schemas, service
from crowd.core.files.errors import FileRejected
from crowd.core.files.storage import FileMissing, LocalStorage, storage
from crowd.core.i18n import _
from crowd.core.openapi import CrowdBlueprint
from crowd.core.security import own_body_limit

blp = CrowdBlueprint(
    "files", __name__, url_prefix="/api/v1", description="Files: uploads from the phone"
)
# The local storage's presigned URLs: outside the API, authorised by their signature alone.
local_blp = Blueprint("files_local", __name__, url_prefix="/files")
CHUNK = 64 * 1024


@contextmanager
def keeping_rejections() -> Iterator[None]:
    """Around a view: a rejected upload is committed as such before the refusal rolls back."""
    try:
        yield
    except FileRejected:
        commit()
        raise


@blp.route("/files", methods=["POST"])
@blp.auth()
@blp.idempotent
@blp.arguments(schemas.FileCreateSchema)
@blp.response(201, schemas.FileUploadSchema)
def create_file(data):
    """Start an upload: PUT the bytes to `upload.url` with `upload.headers` before
    `expires_at`, then confirm. Type and size are checked again from the content."""
    return service.create_upload(actor=current_principal(), **data)


@blp.route("/files/<int:file_id>/confirm", methods=["POST"])
@blp.auth()
@blp.response(200, schemas.StoredFileSchema)
@blp.errors(404, 409)
def confirm_file(file_id):
    """The upload is complete: its content is checked (an image is re-encoded without its
    metadata) and the file is ready, or rejected (422 naming `file`)."""
    with keeping_rejections():
        return service.confirm(actor=current_principal(), file_id=file_id)


@blp.route("/files/<int:file_id>/content", methods=["PUT"])
@own_body_limit
@blp.auth()
@blp.response(204)
@blp.errors(404, 409, 413)
def put_file_content(file_id):
    """Send a small file's bytes through the API instead of the presigned URL (the raw body,
    with its Content-Type); then confirm."""
    service.put_content(
        actor=current_principal(),
        file_id=file_id,
        content_type=request.mimetype or "application/octet-stream",
        read=request.stream.read,
    )
    return Response(status=204)


@blp.route("/files/<int:file_id>", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.StoredFileSchema)
@blp.errors(404)
def get_file(file_id):
    """One of your files."""
    return service.get_file(actor=current_principal(), file_id=file_id)


def _local() -> LocalStorage:
    store = storage()
    if not isinstance(store, LocalStorage):
        raise NotFound()
    return store


@local_blp.route("/local/<token>", methods=["PUT"])
@own_body_limit
def local_upload(token):
    """The bytes of an upload, to a URL from POST /api/v1/files (local storage)."""
    store = _local()
    claims = store.claims(token, "put")
    if claims is None:
        raise Forbidden(_("This upload URL is not valid (any more)."))
    limit = claims["max"]
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(_("Uploads are limited to {limit} bytes.", limit=limit))
    chunks, total = [], 0
    while chunk := request.stream.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise RequestEntityTooLarge(_("Uploads are limited to {limit} bytes.", limit=limit))
        chunks.append(chunk)
    store.put(claims["key"], b"".join(chunks), content_type=request.content_type or "")
    return Response(status=200)


@local_blp.route("/local/<token>", methods=["GET"])
def local_download(token):
    """A file, from a short-lived URL the API handed out (local storage)."""
    store = _local()
    claims = store.claims(token, "get")
    if claims is None:
        raise Forbidden(_("This download URL is not valid (any more)."))
    try:
        data = store.get(claims["key"])
    except FileMissing:
        raise NotFound() from None
    return Response(
        data,
        content_type=claims["ct"],
        headers={"Content-Disposition": claims["cd"], "Cache-Control": "private, max-age=60"},
    )
