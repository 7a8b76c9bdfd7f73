"""Named errors of uploads."""

from __future__ import annotations

from crowd.core.errors import Conflict, DomainError, Unprocessable
from crowd.core.i18n import _l


class FileRejected(Unprocessable):
    """The uploaded content is not what its purpose takes (not an image of a known type, or too
    large); the upload is marked `rejected` and its object deleted. `errors` names `file`."""

    title, type_slug = _l("File rejected"), "file-rejected"


class FileNotPending(Conflict):
    """The file was confirmed, rejected or deleted already: upload a new one."""

    title, type_slug = _l("File not pending"), "file-not-pending"


class TooLargeBody(DomainError):
    """The upload's body passes its purpose's size limit (FILES_MAX_IMAGE_BYTES for images)."""

    status, title, type_slug = 413, _l("Upload too large"), "upload-too-large"
