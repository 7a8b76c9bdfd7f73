"""The work report's files: photos of the work and the customer's signature (crowd.core.files,
purposes work_photo and signature), attached by the member when they complete the job and read
by whoever may read the job (its customer, its assigned member, staff: jobs.work).

Each upload is attached once (work_report_files.file_id is unique): a file of another report
is a 422 naming the field, like a file that is not the member's, not ready or of another
purpose. Files retention deleted stay listed with status `deleted`; their download is a 404.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.errors import NotFound, field_error
from crowd.core.files import service as files
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.models import Job, WorkReport, WorkReportFile

MAX_PHOTOS = 10


def attach(
    *,
    job_id: int,
    owner_user_id: int,
    photo_file_ids: list[int],
    signature_file_id: int | None,
) -> None:
    """Attach the member's ready uploads to the job's (just written) work report."""
    wanted = [
        (file_id, "photo", position, "photo_file_ids", files.WORK_PHOTO)
        for position, file_id in enumerate(photo_file_ids)
    ]
    if signature_file_id is not None:
        wanted.append((signature_file_id, "signature", 0, "signature_file_id", files.SIGNATURE))
    if not wanted:
        return
    # Rows of one table are locked in ascending id (crowd.core.locking).
    for file_id, _kind, _position, field, purpose in sorted(wanted):
        files.ready_file(owner_user_id=owner_user_id, file_id=file_id, purpose=purpose, field=field)
    fields = {file_id: field for file_id, _kind, _position, field, _purpose in wanted}
    taken = db.session.scalars(
        select(WorkReportFile.file_id).where(WorkReportFile.file_id.in_(list(fields)))
    ).first()
    if taken is not None:
        raise field_error(
            fields[taken], _("File {file_id} belongs to another work report.", file_id=taken)
        )
    db.session.flush()  # the report's row before the rows naming it
    db.session.add_all(
        WorkReportFile(job_id=job_id, file_id=file_id, kind=kind, position=position)
        for file_id, kind, position, _field, _purpose in wanted
    )


def report_files(job_id: int) -> list[dict]:
    """The report's files, photos in order then the signature: what they are, no URLs."""
    rows = db.session.execute(
        select(WorkReportFile, files.StoredFile)
        .join(files.StoredFile, files.StoredFile.id == WorkReportFile.file_id)
        .where(WorkReportFile.job_id == job_id)
        .order_by(WorkReportFile.kind, WorkReportFile.position)
    )
    return [
        {
            "id": link.file_id,
            "kind": link.kind,
            "position": link.position,
            "content_type": file.content_type,
            "size": file.size,
            "status": "deleted" if file.status == "deleted" else "ready",
        }
        for link, file in rows
    ]


def report_view(job: Job) -> dict | None:
    """The job's work report with its files; None before the job was completed."""
    # Written with completed_at (jobs.work.complete_job): a job never completed has none, and
    # most views (a posted job's answer among them) need not ask.
    report = db.session.get(WorkReport, job.id) if job.completed_at is not None else None
    if report is None:
        return None
    return {
        "notes": report.notes,
        "minutes_spent": report.minutes_spent,
        "parts": report.parts,
        "photo_refs": report.photo_refs,
        "created_at": report.created_at,
        "files": report_files(job.id),
    }


def download(job_id: int, file_id: int) -> files.Download:
    """Short-lived URLs of a file of the job's report; the caller authorised the reader."""
    link = db.session.scalar(
        select(WorkReportFile).where(
            WorkReportFile.job_id == job_id, WorkReportFile.file_id == file_id
        )
    )
    if link is None:
        raise NotFound(_("No such file in this work report."))
    name = f"job-{job_id}-{link.kind}-{link.position + 1}.{files.extension(file_id)}"
    found = files.download(file_id, filename=name)
    if found is None:
        raise NotFound(_("This file of the work report was deleted."))
    return found
