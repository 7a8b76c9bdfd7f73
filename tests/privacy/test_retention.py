"""Retention: the rules as data, their enforcement at an instant the test moves, the run log,
and the admins' changes of a period."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowd.core import background
from crowd.core.audit import AuditEntry
from crowd.core.db import use_clock, utcnow
from crowd.core.files.models import StoredFile
from crowd.core.files.service import store_generated
from crowd.core.files.storage import storage
from crowd.extensions import db
from crowd.schedule import PERIODIC
from jobs.models import Job, WorkReport, WorkReportFile
from notifications.models import Delivery, Notification, OutboundEmail, Suppression
from onboarding.models import DocumentCheck
from payouts.models.job_payments import JobPayment
from privacy.enforcement import enforce
from privacy.models import RetentionRule, RetentionRun
from privacy.tasks.retention import RETENTION_TASK
from support.models import Ticket, TicketMessage, TicketMessageFile
from tests.factories import Actor, make_actor
from tests.files_helpers import pdf, png
from tests.jobs.conftest import drain_background, finished_job
from tests.sql_recorder import sql_statements

API = "/api/v1"
DAY = timedelta(days=1)


@pytest.fixture
def t0() -> datetime:
    return utcnow()


def _file(owner: Actor, purpose: str) -> StoredFile:
    """A ready file with its object in storage (as a confirmed upload leaves it)."""
    if purpose == "ticket_attachment":
        return store_generated(
            owner_user_id=owner.user_id,
            purpose=purpose,
            data=pdf(),
            content_type="application/pdf",
            extension="pdf",
        )
    return store_generated(
        owner_user_id=owner.user_id,
        purpose=purpose,
        data=png((8, 8)),
        content_type="image/png",
        extension="png",
    )


def _unfinished(owner: Actor, status: str, created_at: datetime) -> StoredFile:
    """An upload never confirmed (pending, its bytes PUT) or refused (rejected)."""
    key = f"uploads/{uuid.uuid4().hex}"
    storage().put(key, png((4, 4)), content_type="image/png")
    file = StoredFile(
        key=key,
        owner_user_id=owner.user_id,
        purpose="work_photo",
        status=status,
        created_at=created_at,
    )
    db.session.add(file)
    db.session.flush()
    return file


def _status(file_id: int) -> str:
    return db.session.scalar(select(StoredFile.status).where(StoredFile.id == file_id))


def _objects_held(files: list[StoredFile]) -> list[bool]:
    return [storage().exists(key) for key in (f.key for f in files)]


def _decided_check(member: Actor, decided_at: datetime) -> tuple[DocumentCheck, list[StoredFile]]:
    files = [_file(member, "identity_document") for _ in range(3)]
    check = DocumentCheck(
        member_id=member.profile_id,
        kind="identity",
        document_type="passport",
        issuer="Stadt Berlin",
        issuing_country="DE",
        reference_hint="4711",
        status="verified",
        checked_at=decided_at,
        front_file_id=files[0].id,
        back_file_id=files[1].id,
        selfie_file_id=files[2].id,
    )
    db.session.add(check)
    db.session.commit()
    return check, files


def _reported_job(customer: Actor, member: Actor, *, status: str, ended_at: datetime):
    job_id = finished_job(customer, member, status=status)
    job = db.session.get(Job, job_id)
    if status == "closed":
        job.confirmed_at, job.closed_at = ended_at - 14 * DAY, ended_at
    if status == "cancelled":  # a resolution cancelled the completed job
        job.cancelled_at = ended_at
    db.session.add(WorkReport(job_id=job_id, notes="Mounted.", minutes_spent=60))
    db.session.flush()
    files = [_file(member, "work_photo"), _file(member, "signature")]
    for position, (file, kind) in enumerate(zip(files, ("photo", "signature"), strict=True)):
        db.session.add(WorkReportFile(job_id=job_id, file_id=file.id, kind=kind, position=position))
    db.session.commit()
    return job, files


def _ticket(customer: Actor, *, status: str, closed_at: datetime | None, **columns) -> Ticket:
    now = utcnow()
    ticket = Ticket(
        subject="Scratched wall",
        category="damage",
        status=status,
        opened_by_id=customer.user_id,
        opened_by_role="customer",
        customer_id=customer.profile_id,
        first_response_due_at=now + DAY,
        resolution_due_at=now + 3 * DAY,
        closed_at=closed_at,
        **columns,
    )
    db.session.add(ticket)
    db.session.flush()
    return ticket


def _attachment(ticket: Ticket, author: Actor) -> StoredFile:
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=author.user_id,
        author_role="customer",
        visibility="parties",
        body="See the photo.",
    )
    db.session.add(message)
    db.session.flush()
    file = _file(author, "ticket_attachment")
    db.session.add(TicketMessageFile(message_id=message.id, file_id=file.id, position=0))
    db.session.commit()
    return file


# --- identity document images ----------------------------------------------------------------


def test_identity_images_go_30_days_after_the_decision_and_the_decision_stays(app, t0):
    member = make_actor("member")
    check, files = _decided_check(member, t0)
    waiting = DocumentCheck(
        member_id=member.profile_id,
        kind="identity",
        document_type="id_card",
        issuer="Stadt Köln",
        issuing_country="DE",
        status="submitted",
        submitted_at=t0 - 60 * DAY,
        front_file_id=_file(member, "identity_document").id,
    )
    db.session.add(waiting)
    db.session.commit()

    early = enforce(now=t0 + 29 * DAY)
    drain_background(app)
    assert early.counts["identity_document_images"] == 0
    assert [_status(f.id) for f in files] == ["ready"] * 3
    assert _objects_held(files) == [True] * 3

    due = enforce(now=t0 + 31 * DAY)
    drain_background(app)
    assert due.counts["identity_document_images"] == 3
    assert [_status(f.id) for f in files] == ["deleted"] * 3
    assert _objects_held(files) == [False] * 3
    db.session.expire_all()
    check = db.session.get(DocumentCheck, check.id)
    assert check.images_deleted_at == t0 + 31 * DAY
    assert (check.status, check.checked_at, check.reference_hint) == ("verified", t0, "4711")
    # A check not decided yet keeps its images, however old.
    assert _status(waiting.front_file_id) == "ready"

    again = enforce(now=t0 + 31 * DAY)
    assert again.counts["identity_document_images"] == 0
    assert db.session.get(DocumentCheck, check.id).images_deleted_at == t0 + 31 * DAY


# --- work report files ------------------------------------------------------------------------


def test_work_report_files_go_after_the_job_can_no_longer_be_disputed(app, t0):
    customer, member = make_actor("customer"), make_actor("member")
    closed, closed_files = _reported_job(customer, member, status="closed", ended_at=t0)
    _, cancelled_files = _reported_job(customer, member, status="cancelled", ended_at=t0)
    # A closed job a ticket is still open about: its photos are evidence.
    complained, complained_files = _reported_job(customer, member, status="closed", ended_at=t0)
    _ticket(customer, status="open", closed_at=None, job_id=complained.id)
    # A job in dispute, never closed.
    disputed, disputed_files = _reported_job(customer, member, status="disputed", ended_at=t0)
    # A closed job whose customer's bank opened a chargeback (it may, long after the closing).
    charged, charged_files = _reported_job(customer, member, status="closed", ended_at=t0)
    db.session.add(
        JobPayment(
            job_id=charged.id,
            customer_id=customer.profile_id,
            status="captured",
            currency="EUR",
            amount_authorized=12000,
            amount_captured=12000,
            transfer_group=f"job-{charged.id}",
            dispute_id=f"dp_{charged.id}",
            dispute_status="needs_response",
        )
    )
    db.session.commit()

    assert enforce(now=t0 + 119 * DAY).counts["work_report_files"] == 0
    due = enforce(now=t0 + 121 * DAY)
    drain_background(app)

    assert due.counts["work_report_files"] == 4
    assert [_status(f.id) for f in closed_files + cancelled_files] == ["deleted"] * 4
    assert _objects_held(closed_files + cancelled_files) == [False] * 4
    # The links stay (the report names what it had), the job as it was.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(WorkReportFile)
            .where(WorkReportFile.job_id == closed.id)
        )
        == 2
    )
    held = complained_files + disputed_files + charged_files
    assert [_status(f.id) for f in held] == ["ready"] * 6
    assert _objects_held(held) == [True] * 6
    assert enforce(now=t0 + 121 * DAY).counts["work_report_files"] == 0

    # The chargeback decided: the next run takes the photos.
    db.session.scalars(
        select(JobPayment).where(JobPayment.job_id == charged.id)
    ).one().dispute_closed_at = t0 + 122 * DAY
    db.session.commit()
    assert enforce(now=t0 + 123 * DAY).counts["work_report_files"] == 2
    assert [_status(f.id) for f in charged_files] == ["deleted", "deleted"]


# --- ticket attachments -----------------------------------------------------------------------


def test_ticket_attachments_go_a_year_after_the_closing_unless_a_follow_up_is_open(app, t0):
    customer = make_actor("customer")
    closed = _ticket(customer, status="closed", closed_at=t0)
    attachment = _attachment(closed, customer)
    followed = _ticket(customer, status="closed", closed_at=t0)
    kept = _attachment(followed, customer)
    _ticket(customer, status="open", closed_at=None, follow_up_of_id=followed.id)
    still_open = _ticket(customer, status="resolved", closed_at=None)
    unclosed = _attachment(still_open, customer)

    assert enforce(now=t0 + 364 * DAY).counts["ticket_attachments"] == 0
    due = enforce(now=t0 + 366 * DAY)
    drain_background(app)

    assert due.counts["ticket_attachments"] == 1
    assert _status(attachment.id) == "deleted"
    assert _objects_held([attachment, kept, unclosed]) == [False, True, True]
    assert [_status(kept.id), _status(unclosed.id)] == ["ready", "ready"]


# --- exports, abandoned uploads -----------------------------------------------------------------


def test_exports_go_after_7_days_and_abandoned_uploads_after_one(app, t0):
    member = make_actor("member")
    export = store_generated(
        owner_user_id=member.user_id,
        purpose="data_export",
        data=b"PK\x05\x06" + b"\0" * 18,
        content_type="application/zip",
        extension="zip",
    )
    pending = _unfinished(member, "pending", t0)
    rejected = _unfinished(member, "rejected", t0)
    confirmed = _file(member, "work_photo")  # ready, linked to nothing yet: not abandoned
    db.session.commit()

    first = enforce(now=t0 + DAY - timedelta(minutes=1))
    assert (first.counts["data_exports"], first.counts["abandoned_uploads"]) == (0, 0)
    second = enforce(now=t0 + DAY + timedelta(minutes=1))
    drain_background(app)
    assert (second.counts["data_exports"], second.counts["abandoned_uploads"]) == (0, 2)
    assert [_status(pending.id), _status(rejected.id)] == ["deleted", "deleted"]
    assert _objects_held([pending, rejected]) == [False, False]

    third = enforce(now=t0 + 8 * DAY)
    drain_background(app)
    assert (third.counts["data_exports"], third.counts["abandoned_uploads"]) == (1, 0)
    assert _status(export.id) == "deleted"
    assert _objects_held([export, confirmed]) == [False, True]
    assert _status(confirmed.id) == "ready"


# --- notifications --------------------------------------------------------------------------------


def _inbox_entry(user_id: int, created_at: datetime, *, delivery: str = "sent") -> int:
    entry = Notification(
        user_id=user_id, kind="job.assigned", title="Assigned", body="", created_at=created_at
    )
    db.session.add(entry)
    db.session.flush()
    sent = Delivery(
        notification_id=entry.id,
        user_id=user_id,
        kind="job.assigned",
        channel="email",
        status=delivery,
        address="someone@example.test",
        created_at=created_at,
    )
    db.session.add(sent)
    db.session.flush()
    db.session.add(
        OutboundEmail(
            to_address="someone@example.test",
            user_id=user_id,
            subject="Assigned",
            body="…",
            delivery_id=sent.id,
            dedupe_key=f"retention:{entry.id}",
            status="sent",
        )
    )
    db.session.add(
        Suppression(
            channel="email",
            address=f"bounce{entry.id}@example.test",
            reason="bounce",
            delivery_id=sent.id,
        )
    )
    db.session.commit()
    return entry.id


def test_inbox_entries_go_after_two_years_with_their_deliveries(app, t0):
    member = make_actor("member")
    old = _inbox_entry(member.user_id, t0)
    on_its_way = _inbox_entry(member.user_id, t0, delivery="queued")
    recent = _inbox_entry(member.user_id, t0 + 30 * DAY)

    assert enforce(now=t0 + 729 * DAY).counts["notifications"] == 0
    due = enforce(now=t0 + 731 * DAY)

    assert due.counts["notifications"] == 1
    db.session.expire_all()
    assert db.session.get(Notification, old) is None
    assert db.session.get(Notification, on_its_way) is not None
    assert db.session.get(Notification, recent) is not None
    left = db.session.scalars(select(Delivery.notification_id)).all()
    assert old not in left and {on_its_way, recent} <= set(left)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboundEmail)
            .where(OutboundEmail.dedupe_key == f"retention:{old}")
        )
        == 0
    )
    # The suppression stays: the address still bounces.
    suppression = db.session.scalars(
        select(Suppression).where(Suppression.address == f"bounce{old}@example.test")
    ).one()
    assert suppression.delivery_id is None
    assert enforce(now=t0 + 731 * DAY).counts["notifications"] == 0


# --- the run: batches, log, keep rules, task, schedule, command ---------------------------------


def test_a_run_works_in_batches_logs_its_counts_and_a_rerun_deletes_nothing(app, t0):
    member = make_actor("member")
    uploads = [_unfinished(member, "pending", t0 - 2 * DAY) for _ in range(5)]
    db.session.commit()

    with sql_statements() as sent:
        result = enforce(now=t0, batch=2)
    drain_background(app)

    assert result.counts["abandoned_uploads"] == 5
    # Three batches (2, 2, 1): each a bounded, locking select and one update.
    marking = [s for s in sent if s.lstrip().upper().startswith("UPDATE STORED_FILES")]
    assert len(marking) == 3
    if db.engine.dialect.name == "postgresql":
        due = [s for s in sent if "stored_files.status IN" in s and "LIMIT" in s]
        assert len(due) == 3 and all("FOR NO KEY UPDATE" in s for s in due), due
    assert _objects_held(uploads) == [False] * 5
    run = db.session.get(RetentionRun, result.run_id)
    assert run.counts["abandoned_uploads"] == 5 and run.total == 5
    assert run.as_of == t0 and run.finished_at is not None and run.cause == "schedule"
    # Every rule that deletes is in the log, each with its count; kept ones are not.
    assert set(run.counts) == {
        "abandoned_uploads",
        "background_work",
        "data_exports",
        "identity_document_images",
        "notifications",
        "ticket_attachments",
        "work_report_files",
    }
    assert {o.kind: o.action for o in result.outcomes}["documents"] == "keep"

    rerun = enforce(now=t0, batch=2)
    assert rerun.counts == dict.fromkeys(run.counts, 0)
    assert db.session.get(RetentionRun, rerun.run_id).total == 0


def test_a_dry_run_counts_and_changes_nothing(app, t0):
    member = make_actor("member")
    upload = _unfinished(member, "rejected", t0 - 2 * DAY)
    db.session.commit()
    runs = db.session.scalar(select(func.count()).select_from(RetentionRun))

    result = enforce(now=t0, dry_run=True)

    assert result.counts["abandoned_uploads"] == 1 and result.run_id is None
    assert _status(upload.id) == "rejected"
    assert db.session.scalar(select(func.count()).select_from(RetentionRun)) == runs


def test_the_daily_task_is_scheduled_and_judges_by_the_clock(app, t0):
    assert {p.task: p.every_seconds for p in PERIODIC}[RETENTION_TASK] == 86400
    member = make_actor("member")
    check, files = _decided_check(member, t0)

    with use_clock(lambda: t0 + 31 * DAY):
        counts = background.run_periodic(RETENTION_TASK)
    drain_background(app)

    assert counts["identity_document_images"] == 3
    assert _objects_held(files) == [False] * 3
    db.session.expire_all()
    assert db.session.get(DocumentCheck, check.id).images_deleted_at == t0 + 31 * DAY


def test_the_command_prints_per_kind_what_is_due_then_deletes_it(app, t0):
    member = make_actor("member")
    upload = _unfinished(member, "pending", t0 - 2 * DAY)
    db.session.commit()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["crowd", "privacy", "retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "abandoned_uploads: 1 due" in dry.output
    assert "ledger_entries: kept (3650 days: nothing due)" in dry.output
    assert _status(upload.id) == "pending"

    real = runner.invoke(args=["crowd", "privacy", "retention"])
    assert real.exit_code == 0, real.output
    assert "abandoned_uploads: 1 deleted" in real.output
    assert _status(upload.id) == "deleted"
    run = db.session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc())).first()
    assert run.cause == "command" and run.counts["abandoned_uploads"] == 1


# --- the API: rules and runs ---------------------------------------------------------------------


def test_staff_read_the_rules_and_the_runs(client, t0):
    cm, member = make_actor("community_manager"), make_actor("member")
    enforce(now=t0)

    rules = client.get(f"{API}/retention-rules", headers=cm.headers)
    assert rules.status_code == 200
    by_kind = {rule["kind"]: rule for rule in rules.get_json()}
    assert by_kind["identity_document_images"]["keep_days"] == 30
    assert by_kind["identity_document_images"]["action"] == "delete"
    assert by_kind["documents"]["action"] == "keep"
    assert by_kind["documents"]["keep_days"] == by_kind["documents"]["min_days"] == 3650

    runs = client.get(f"{API}/retention-runs", headers=cm.headers)
    assert runs.status_code == 200
    latest = runs.get_json()["items"][0]
    assert latest["counts"]["identity_document_images"] == 0 and latest["finished_at"]

    assert client.get(f"{API}/retention-rules", headers=member.headers).status_code == 403
    assert client.get(f"{API}/retention-runs", headers=member.headers).status_code == 403


def test_an_admin_shortens_a_period_and_the_next_run_follows_it(app, client, t0):
    admin, member = make_actor("admin"), make_actor("member")
    _, files = _decided_check(member, t0)

    changed = client.put(
        f"{API}/retention-rules/identity_document_images",
        json={"keep_days": 10},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["keep_days"] == 10
    assert changed.get_json()["updated_by_id"] == admin.user_id
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.endpoint == "privacy_retention.update_retention_rule")
    ).one()
    assert entry.changes == {"keep_days": {"old": 30, "new": 10}}
    assert entry.target == {"kind": "identity_document_images"}

    result = enforce(now=t0 + 11 * DAY)
    drain_background(app)
    assert result.counts["identity_document_images"] == 3
    assert _objects_held(files) == [False] * 3


@pytest.mark.parametrize(
    ("kind", "body", "status"),
    [
        ("identity_document_images", {"keep_days": 0}, 422),  # below its 1 day
        ("identity_document_images", {"keep_days": 366}, 422),  # above its year
        ("documents", {"keep_days": 365}, 422),  # the legal 10 years
        ("identity_document_images", {"keep_days": "30"}, 422),
        ("identity_document_images", {"keep_days": 30, "action": "keep"}, 422),
        ("identity_document_images", {}, 422),
        ("no_such_kind", {"keep_days": 30}, 404),
    ],
)
def test_a_change_out_of_bounds_or_of_no_rule_is_refused(client, kind, body, status):
    admin = make_actor("admin")

    response = client.put(f"{API}/retention-rules/{kind}", json=body, headers=admin.headers)

    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    if status == 422:
        errors = response.get_json()["errors"]["json"]
        assert set(errors) == ({"action"} if "action" in body else {"keep_days"})
    db.session.expire_all()
    if kind != "no_such_kind":
        assert db.session.get(RetentionRule, kind).updated_by_id is None


def test_community_managers_do_not_change_rules(client):
    cm = make_actor("community_manager")
    response = client.put(
        f"{API}/retention-rules/notifications", json={"keep_days": 60}, headers=cm.headers
    )
    assert response.status_code == 403
    assert db.session.get(RetentionRule, "notifications").keep_days == 730


def test_a_done_tasks_arguments_are_emptied_after_30_days_and_failed_ones_kept(app):
    OutboxMessage = background.OutboxMessage
    t0 = utcnow()
    done = OutboxMessage(
        task="notifications.send_addressed",
        kwargs={"to": "quoted.person@example.test"},
        status="done",
        dedupe_key="story:done",
        done_at=t0,
    )
    failed = OutboxMessage(
        task="notifications.send_addressed",
        kwargs={"to": "retry.me@example.test"},
        status="failed",
        done_at=t0,
    )
    db.session.add_all([done, failed])
    db.session.commit()

    assert enforce(now=t0 + timedelta(days=29)).counts["background_work"] == 0
    result = enforce(now=t0 + timedelta(days=31))
    assert result.counts["background_work"] == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, done.id).kwargs == {}
    # The row and its dedupe key stay: the work never runs twice.
    assert db.session.get(OutboxMessage, done.id).dedupe_key == "story:done"
    assert db.session.get(OutboxMessage, failed.id).kwargs == {"to": "retry.me@example.test"}
    assert enforce(now=t0 + timedelta(days=32)).counts["background_work"] == 0
