"""Demo files: the images of identity checks still under review or decided lately (what the
console's application page shows the onboarding team), and photos with the customer's
signature in the work reports of the demo member's latest jobs. Drawn with Pillow, stored like
any upload (crowd.core.files), so retention, export and erasure treat them as real ones."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from accounts.models import User
from crowd.core.db import utcnow
from crowd.core.files.models import IDENTITY_DOCUMENT, SIGNATURE, WORK_PHOTO
from crowd.core.files.service import make_thumbnail, store_generated
from crowd.extensions import db
from demo.named_accounts import MEMBER_EMAIL
from jobs.models import Job, WorkReport, WorkReportFile
from members.models import Member
from onboarding.models import DocumentCheck

# Images of checks decided this long ago are gone by retention already (30 days by default).
RECENT = timedelta(days=25)
MAX_CHECKS = 12
WORK_JOBS = 6


def _jpeg(draw, size=(640, 400), background=(236, 240, 244)) -> bytes:
    image = Image.new("RGB", size, background)
    draw(ImageDraw.Draw(image), image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _card(side: str, name: str):
    def draw(pen: ImageDraw.ImageDraw, image: Image.Image) -> None:
        pen.rounded_rectangle(
            (20, 20, 620, 380), 24, fill=(210, 226, 240), outline=(60, 90, 130), width=4
        )
        pen.text((48, 44), "MUSTER · SPECIMEN", fill=(160, 40, 40))
        if side == "selfie":
            pen.ellipse((240, 90, 400, 250), fill=(225, 190, 160))
            pen.rectangle((200, 250, 440, 380), fill=(90, 110, 150))
            pen.text((48, 340), f"{name}", fill=(30, 30, 30))
        elif side == "front":
            pen.rectangle((48, 90, 208, 300), fill=(180, 180, 190))
            pen.text((240, 110), "PERSONALAUSWEIS", fill=(30, 30, 30))
            pen.text((240, 150), name, fill=(30, 30, 30))
        else:
            pen.text((48, 110), "IDD<<DEMO<<<<<<<<<<<<<<<<<<<<<<", fill=(30, 30, 30))
            pen.text((48, 150), "ANSCHRIFT: DEMOSTRASSE 1", fill=(30, 30, 30))

    return draw


def _photo(hue: int):
    def draw(pen: ImageDraw.ImageDraw, image: Image.Image) -> None:
        for y in range(0, 400, 8):
            pen.rectangle((0, y, 640, y + 8), fill=((hue + y // 4) % 256, 120, 200 - y // 4))
        pen.rectangle((220, 120, 420, 280), outline=(250, 250, 250), width=6)

    return draw


def _signature(pen: ImageDraw.ImageDraw, image: Image.Image) -> None:
    pen.line(
        [(40, 120), (120, 60), (180, 140), (260, 70), (340, 130), (420, 80)],
        fill=(20, 40, 120),
        width=5,
    )


def seed_files() -> str:
    """Images for the latest identity checks and the demo member's latest work reports."""
    now = utcnow()
    checks = db.session.execute(
        select(DocumentCheck, Member)
        .join(Member, Member.id == DocumentCheck.member_id)
        .where(
            DocumentCheck.kind == "identity",
            DocumentCheck.front_file_id.is_(None),
            (DocumentCheck.checked_at.is_(None)) | (DocumentCheck.checked_at >= now - RECENT),
        )
        .order_by(DocumentCheck.submitted_at.desc())
        .limit(MAX_CHECKS)
    ).all()
    for check, member in checks:
        for side in ("front", "back", "selfie"):
            file = store_generated(
                owner_user_id=member.user_id,
                purpose=IDENTITY_DOCUMENT,
                data=_jpeg(_card(side, member.display_name)),
                content_type="image/jpeg",
                extension="jpg",
            )
            file.width, file.height = 640, 400
            make_thumbnail(file.id)
            setattr(check, f"{side}_file_id", file.id)
    reports = db.session.execute(
        select(WorkReport, Job)
        .join(Job, Job.id == WorkReport.job_id)
        .join(Member, Member.id == Job.assigned_member_id)
        .join(User, User.id == Member.user_id)
        .where(User.email == MEMBER_EMAIL)
        .order_by(Job.completed_at.desc())
        .limit(WORK_JOBS)
    ).all()
    for report, job in reports:
        owner = db.session.get(Member, job.assigned_member_id).user_id
        drawings = [
            (WORK_PHOTO, _photo(job.id * 37)),
            (WORK_PHOTO, _photo(job.id * 91)),
            (SIGNATURE, _signature),
        ]
        for position, (purpose, drawing) in enumerate(drawings):
            size = (480, 180) if purpose == SIGNATURE else (640, 400)
            background = (255, 255, 255) if purpose == SIGNATURE else (236, 240, 244)
            file = store_generated(
                owner_user_id=owner,
                purpose=purpose,
                data=_jpeg(drawing, size, background),
                content_type="image/jpeg",
                extension="jpg",
            )
            file.width, file.height = size
            make_thumbnail(file.id)
            db.session.add(
                WorkReportFile(
                    job_id=report.job_id,
                    file_id=file.id,
                    kind="signature" if purpose == SIGNATURE else "photo",
                    position=position,
                )
            )
    db.session.flush()
    return (
        f"files: images of {len(checks)} identity checks, photos and a signature in "
        f"{len(reports)} work reports of the demo member"
    )
