"""API contract for uploads."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.files.images import IMAGE_TYPES
from crowd.core.files.models import FILE_STATUSES, PURPOSES, UPLOAD_PURPOSES
from crowd.core.i18n import _

MAX_FILE_ID = 2**63 - 1


class FileCreateSchema(ma.Schema):
    """A file you are about to upload: what it is for, its type and its size in bytes."""

    purpose = ma.fields.String(required=True, validate=validate.OneOf(UPLOAD_PURPOSES))
    # Signs the upload; the type that counts is detected from the content at confirmation.
    content_type_hint = ma.fields.String(
        required=True,
        validate=validate.OneOf((*IMAGE_TYPES, "application/pdf")),
        metadata={"description": "an image type; application/pdf for a ticket attachment"},
    )
    size = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )


class PresignedUploadSchema(ma.Schema):
    url = ma.fields.String(required=True, metadata={"description": "where to send the bytes"})
    method = ma.fields.String(required=True, metadata={"example": "PUT"})
    headers = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={"description": "headers the request must carry, as given"},
    )


class FileUploadSchema(ma.Schema):
    """A pending file and where to PUT its bytes until `expires_at`; then confirm it."""

    id = ma.fields.Integer(required=True)
    purpose = ma.fields.String(required=True, validate=validate.OneOf(PURPOSES))
    status = ma.fields.String(required=True, validate=validate.OneOf(FILE_STATUSES))
    upload = ma.fields.Nested(PresignedUploadSchema, required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


class StoredFileSchema(ma.Schema):
    """One of your files: what its content turned out to be."""

    id = ma.fields.Integer(required=True)
    purpose = ma.fields.String(required=True, validate=validate.OneOf(PURPOSES))
    status = ma.fields.String(required=True, validate=validate.OneOf(FILE_STATUSES))
    content_type = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    confirmed_at = ma.fields.AwareDateTime(allow_none=True)


class DownloadSchema(ma.Schema):
    """Short-lived URLs to GET a file and its thumbnail (null until it is made)."""

    url = ma.fields.String(required=True)
    thumbnail_url = ma.fields.String(allow_none=True)
    expires_at = ma.fields.AwareDateTime(required=True)


def file_id(**kwargs) -> ma.fields.Integer:
    """The id of a ready upload of the caller's that a domain attaches to something."""
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_FILE_ID), **kwargs)


def _each_once(ids: list[int]) -> None:
    if len(set(ids)) != len(ids):
        raise ma.ValidationError(_("lists a file more than once"))


def file_ids(*, maximum: int, purpose: str) -> ma.fields.List:
    """Up to `maximum` distinct ids of ready uploads of the caller's of `purpose`, in order."""
    return ma.fields.List(
        file_id(),
        load_default=list,
        validate=[validate.Length(max=maximum), _each_once],
        metadata={
            "uniqueItems": True,
            "description": f"At most {maximum} ready uploads of yours of purpose `{purpose}` "
            "(POST /files, then confirm), each once; a file attached elsewhere is a 422",
        },
    )


class AttachedFileSchema(ma.Schema):
    """A file attached to something (a work report, a ticket message), as its readers list it:
    no URL here, GET the file's download for one. `deleted`: retention removed it."""

    id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True)
    content_type = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(
        required=True, validate=validate.OneOf(("ready", "deleted")), metadata={"example": "ready"}
    )
