"""HTTP for data exports (subject access, portability)."""

from collections.abc import Iterator
from contextlib import contextmanager

from crowd.core.auth import current_principal
from crowd.core.db import commit
from crowd.core.files.schemas import DownloadSchema
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from privacy.errors import ExportGone
from privacy.export import service
from privacy.export.schemas import DataExportSchema

blp = CrowdBlueprint(
    "privacy_exports", __name__, url_prefix="/api/v1", description="Privacy: data exports"
)

ADMIN = "admin"


@contextmanager
def keeping_retirements() -> Iterator[None]:
    """Around a view: an export found expired is committed as such before the 410 rolls back."""
    try:
        yield
    except ExportGone:
        commit()
        raise


@blp.route("/me/data-exports", methods=["POST"])
@blp.auth()
@blp.idempotent
@blp.response(202, DataExportSchema)
@blp.errors(409, 429)
def request_export():
    """Ask for an export of your data: a ZIP (README.txt, data.json, a CSV per section and
    your files) assembled in the background and announced in your inbox. One at a time (409
    while one is assembled), one per PRIVACY_EXPORT_INTERVAL_HOURS (429 with Retry-After)."""
    return service.request_export(actor=current_principal())


@blp.route("/me/data-exports", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(DataExportSchema))
def list_exports(args):
    """Your data exports, newest first."""
    return service.list_exports(actor=current_principal(), **args)


@blp.route("/me/data-exports/<int:export_id>", methods=["GET"])
@blp.auth()
@blp.response(200, DataExportSchema)
@blp.errors(404)
def get_export(export_id):
    """One of your data exports: its status and times."""
    return service.get_export(actor=current_principal(), export_id=export_id)


@blp.route("/me/data-exports/<int:export_id>/download", methods=["POST"])
@blp.auth()
@blp.response(200, DownloadSchema)
@blp.errors(404, 409, 410)
def download_export(export_id):
    """The one download of a ready export: a short-lived URL to GET the ZIP. The export is
    then `downloaded` and a second call is 410; so is a call after `expires_at` (expired: the
    archive is deleted). A POST because it changes the export: a GET must stay harmless to
    link previews and prefetchers."""
    with keeping_retirements():
        return service.download(actor=current_principal(), export_id=export_id)


@blp.route("/users/<int:user_id>/data-exports", methods=["POST"])
@blp.auth(ADMIN)
@blp.idempotent
@blp.response(202, DataExportSchema)
@blp.errors(404, 409)
def request_export_for(user_id):
    """Ask for a user's export on their behalf (a request received by letter or phone): it is
    announced in their inbox and only they download it. Not limited by the interval; one at a
    time (409). Recorded in the audit log."""
    return service.request_export_for(actor=current_principal(), user_id=user_id)
