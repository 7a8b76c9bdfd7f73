"""The job payment's way: hooks, authorisation, capture with the split, cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import inspect, select

from accounts.models import User
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _l
from crowd.extensions import db
from customers.models import Customer
from jobs.dispatch import next_wave_if_idle, request_dispatch, withdraw_pending_offers
from jobs.models import Job
from jobs.queries import lock_job
from notifications.service import notify, notify_many
from payouts import ledger
from payouts.config import job_payment_rules
from payouts.ledger import Line, account_code_for_member, account_code_for_organisation
from payouts.models.job_payments import CustomerPaymentMethod, JobPayment, JobRefund
from payouts.models.ledger import LedgerTransaction
from payouts.plans import commission_for
from payouts.providers import REQUIRES_ACTION, PaymentError, PaymentResult, get_provider

AUTHORIZE_TASK = "payouts.authorize_job_payment"
CAPTURE_TASK = "payouts.capture_job_payment"
CANCEL_TASK = "payouts.cancel_job_payment"
REFUND_TASK = "payouts.refund_job_payment"
REAUTHORIZE_TASK = "payouts.reauthorize_job_payment"
RELEASE_TASK = "payouts.release_superseded_payment"
REFRESH_TASK = "payouts.refresh_job_payment"
# Billed on invoice by agreement (customers.billing): nothing to authorise, a receivable on
# confirmation.
INVOICED = "invoiced"
DEFAULT_TERMS_DAYS = 30

CLEARING = "clearing:payments"
# Not authorised (yet): what an authorisation may still move forward.
UNAUTHORIZED = ("pending", "requires_payment_method", "requires_action", "failed")
# A hold that lapsed or was released at the provider while the job still needs paying: the
# same method may be authorised again (a decline, by contrast, waits for another method).
LAPSED = "authorization_lapsed"
# Job states in which the customer's payment is (still) wanted: from posting (offers wait for
# the authorisation) to the end.
PAYABLE_JOB_STATES = (
    "open",
    "offered",
    "assigned",
    "in_progress",
    "completed",
    "confirmed",
    "closed",
    "disputed",
)
NO_METHOD = "No payment method on file: offers go out once you save one and it is authorised."

# A job's price (or late fee) split in the ledger: invoicing makes its documents.
declare("payment.settled")


def transfer_group(job_id: int) -> str:
    return f"job-{job_id}"


def key_for(job_id: int, action: str, attempt: int = 1) -> str:
    return f"job-{job_id}-{action}" if attempt == 1 else f"job-{job_id}-{action}-{attempt}"


# --- loading ---------------------------------------------------------------------------------


_CREATED_PAYMENTS = "crowd_job_payments_created"


def payment_of(job_id: int, *, lock: bool = False) -> JobPayment | None:
    """The job's payment; `lock` takes its row lock (tasks and handlers serialise on it)."""
    if not lock:
        # Written in this unit of work (_ensure_payment): the gate reading it right after
        # the posting need not ask the database for the row it has (POST /jobs: one query).
        created = db.session.info.get(_CREATED_PAYMENTS, {}).get(job_id)
        # Unless a rollback undid it (the row is gone, the object transient).
        if created is not None and (inspect(created).persistent or inspect(created).pending):
            return created
    query = select(JobPayment).where(JobPayment.job_id == job_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(query)


def saved_method(customer_id: int) -> CustomerPaymentMethod | None:
    return db.session.scalar(
        select(CustomerPaymentMethod).where(CustomerPaymentMethod.customer_id == customer_id)
    )


def customer_user_id(customer_id: int) -> int:
    return db.session.scalar(select(Customer.user_id).where(Customer.id == customer_id))


def price_due(job: Job) -> bool:
    """Whether the job's price is due: it was confirmed and not cancelled since."""
    return job.confirmed_at is not None and job.status in ("confirmed", "closed", "disputed")


# --- hooks: called by the jobs code inside its unit of work ----------------------------------


def _ensure_payment(job: Job) -> JobPayment:
    payment = payment_of(job.id)
    if payment is None:
        # A customer invoiced by agreement pays on terms: the job's payment is invoiced from
        # the start (changing the agreement later does not change a posted job's).
        invoiced = db.session.get(Customer, job.customer_id).billing == "invoice"
        method = None if invoiced else saved_method(job.customer_id)
        payment = JobPayment(
            job_id=job.id,
            customer_id=job.customer_id,
            status=INVOICED if invoiced else "pending",
            currency=job.currency,
            amount_authorized=0,
            amount_captured=0,
            amount_refunded=0,
            transfer_group=transfer_group(job.id),
            authorize_attempt=1,
            # The attempt's method is fixed now, with the assignment: a retry sends the same.
            payment_method=method.payment_method if method else None,
            customer_ref=method.provider_customer_ref if method else None,
        )
        db.session.add(payment)
        db.session.info.setdefault(_CREATED_PAYMENTS, {})[job.id] = payment
    return payment


def on_posted(job: Job) -> JobPayment | None:
    """A job was posted: have its payment authorised before any offer goes out (when
    JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH, the default; else it waits for the assignment).

    Without a saved payment method nothing is sent to the provider: the payment waits at
    requires_payment_method, the customer is told, and saving a method authorises it.
    """
    if not job_payment_rules().authorise_before_dispatch:
        return None
    payment = _ensure_payment(job)
    if payment.status != "pending":
        return payment
    if payment.payment_method is None:
        needs_method(payment, job)
    else:
        enqueue(AUTHORIZE_TASK, job_id=job.id)
    return payment


def needs_method(payment: JobPayment, job: Job) -> None:
    """The payment waits for the customer to save a payment method; they are told once."""
    payment.status = "requires_payment_method"
    payment.last_error = NO_METHOD
    notify(
        customer_user_id(payment.customer_id),
        "payment.method_required",
        _l("Add a payment method"),
        _l(
            "Job {job_id} ({job_title}): {NO_METHOD}",
            job_id=job.id,
            job_title=job.title,
            NO_METHOD=NO_METHOD,
        ),
        dedupe_key=f"payment.method_required:{job.id}:{payment.authorize_attempt}",
        job_id=job.id,
    )


def on_assigned(job: Job) -> None:
    """A member was assigned: have the customer's payment for the job authorised."""
    payment = _ensure_payment(job)
    if payment.status in UNAUTHORIZED:
        enqueue(AUTHORIZE_TASK, job_id=job.id)


def on_confirmed(job: Job) -> None:
    """The job was confirmed: capture its payment and post the split."""
    payment = _ensure_payment(job)
    if payment.status in UNAUTHORIZED:
        # Captured as soon as it is authorised (the authorisation task sees the confirmation).
        enqueue(AUTHORIZE_TASK, job_id=job.id)
    enqueue(CAPTURE_TASK, job_id=job.id)


def on_cancelled(job: Job) -> None:
    """The job was cancelled: release its authorisation, or capture the late-cancellation fee."""
    if payment_of(job.id) is not None:
        enqueue(CANCEL_TASK, job_id=job.id)


# --- authorisation ---------------------------------------------------------------------------


def authorize(job_id: int) -> str:
    """Authorise the job's price on the customer's payment method (task; idempotent)."""
    job = lock_job(job_id)  # the job before its payment (crowd.core.locking's order)
    payment = payment_of(job_id, lock=True)
    if payment is None or job is None:
        return "no_payment"
    if payment.status not in ("pending", "requires_payment_method"):
        # Authorised, or waiting for the customer (a declined method is not tried again).
        return payment.status
    if job.status not in PAYABLE_JOB_STATES:
        return "job_not_payable"
    if payment.payment_method is None:
        method = saved_method(job.customer_id)
        if method is None:
            if not job_payment_rules().authorise_before_dispatch:
                payment.status = "requires_payment_method"  # as before the rule: no notice
            elif payment.status != "requires_payment_method":
                needs_method(payment, job)
            return payment.status
        payment.payment_method = method.payment_method
        payment.customer_ref = method.provider_customer_ref
    return authorize_at_provider(payment, job)


def authorize_at_provider(payment: JobPayment, job: Job) -> str:
    """Send the current attempt to the provider and record its answer: authorised, waiting
    for the customer (3-D Secure), or failed — the last two pause the job's dispatch."""
    provider = get_provider()
    payment.provider = provider.name
    try:
        result = provider.authorize_payment(
            amount=job.price_amount,
            currency=job.currency,
            customer_ref=payment.customer_ref,
            transfer_group=payment.transfer_group,
            idempotency_key=key_for(job.id, "authorize", payment.authorize_attempt),
            metadata={"job_id": job.id, "customer_id": job.customer_id},
            payment_method=payment.payment_method,
        )
    except PaymentError as error:
        mark_failed(payment, error.code, error.decline_code, error.detail)
        pause_dispatch(job, payment)
        return payment.status
    payment.provider_payment_id = result.id
    if result.authorized:
        mark_authorized(payment, job, result.amount_capturable or result.amount)
    else:
        requires_action(payment, job, result)
    return payment.status


def requires_action(payment: JobPayment, job: Job, result: PaymentResult) -> None:
    """The bank asks the customer to authenticate (3-D Secure / SCA): keep what their client
    needs for it (shown to them at GET /jobs/{id}/payment), tell them; the job waits."""
    payment.status = REQUIRES_ACTION
    payment.next_action_type = result.next_action_type or "use_stripe_sdk"
    payment.client_secret = result.client_secret
    payment.last_error = (
        "Your bank asks you to confirm the payment (3-D Secure) before the job goes ahead."
    )
    notify(
        customer_user_id(payment.customer_id),
        "payment.action_required",
        _l("Please confirm your payment"),
        _l("Your bank asks you to confirm the payment for job {job_id}.", job_id=job.id),
        dedupe_key=f"payment.action_required:{job.id}:{payment.authorize_attempt}",
        job_id=job.id,
        next_action_type=payment.next_action_type,
    )
    pause_dispatch(job, payment)


def pause_dispatch(job: Job, payment: JobPayment) -> None:
    """The job's payment is not authorised any more: its pending offers are withdrawn (the
    dispatch gate holds further waves); an assigned job stays assigned, and community
    managers are told. The caller holds the job's lock."""
    if job.status == "offered":
        withdraw_pending_offers(job, reason="the job is on hold until its payment is authorised.")
    elif job.status in ("assigned", "in_progress", "completed"):
        staff = db.session.scalars(
            select(User.id)
            .where(User.role == "community_manager", User.disabled_at.is_(None))
            .order_by(User.id)
        ).all()
        key = f"payment.held:{job.id}:{payment.authorize_attempt}"
        notify_many(
            "payment.held",
            _l("Job payment not authorised"),
            _l(
                "Job {job_id} ({job_title}) is {job_status} but its payment is {payment_status}.",
                job_id=job.id,
                job_title=job.title,
                job_status=job.status,
                payment_status=payment.status,
            ),
            recipients=[(user_id, f"{key}:{user_id}", {"job_id": job.id}) for user_id in staff],
        )


def mark_authorized(payment: JobPayment, job: Job, amount: int) -> None:
    payment.status = "authorized"
    payment.amount_authorized = amount
    payment.authorized_at = utcnow()
    payment.authorization_expires_at = payment.authorized_at + timedelta(
        days=job_payment_rules().authorisation_valid_days
    )
    payment.failure_code = payment.last_error = None
    payment.next_action_type = payment.client_secret = None
    if payment.superseded_payment_id:
        enqueue(RELEASE_TASK, job_id=job.id)  # the previous hold, now replaced
    # The job moved on while we waited for the authorisation: finish what it needs now.
    if price_due(job):
        enqueue(CAPTURE_TASK, job_id=job.id)
    elif job.status == "cancelled":
        enqueue(CANCEL_TASK, job_id=job.id)
    elif job.status == "offered":
        next_wave_if_idle(job)  # its offers were withdrawn while the payment was on hold
    else:
        # An open job held back for its payment may be offered now (jobs.dispatch's gate).
        request_dispatch(job)


def mark_failed(
    payment: JobPayment, code: str | None, decline_code: str | None, message: str
) -> None:
    """Record a failed authorisation (or a lapsed hold) and tell the customer."""
    payment.status = "failed"
    payment.amount_authorized = 0  # nothing is held any more
    payment.next_action_type = payment.client_secret = None
    payment.authorization_expires_at = None
    payment.failure_code = decline_code or code or "failed"
    payment.last_error = message
    payment.failed_at = utcnow()
    if payment.failure_code == LAPSED:
        ask = "We will authorise your saved payment method again."
    else:
        ask = "Please save another payment method."
    notify(
        customer_user_id(payment.customer_id),
        "payment.failed",
        _l("Your payment did not go through"),
        _l(
            "Job {payment_job_id}: {message} {ask}",
            payment_job_id=payment.job_id,
            message=message,
            ask=ask,
        ),
        dedupe_key=f"payment.failed:{payment.job_id}:{payment.authorize_attempt}",
        job_id=payment.job_id,
        reason=payment.failure_code,
    )


def payment_method_changed(customer_id: int, method: CustomerPaymentMethod) -> int:
    """A customer saved a (new) payment method: try it on their payments waiting for one.

    A payment that failed or waits for the customer gets a new attempt with its own keys; one
    still pending keeps its attempt (and its method, if it has one): its retry must send the
    very request its key was first used with. Returns how many payments were queued.
    """
    payments = db.session.scalars(
        select(JobPayment)
        .join(Job, Job.id == JobPayment.job_id)
        .where(
            JobPayment.customer_id == customer_id,
            JobPayment.status.in_(UNAUTHORIZED),
            Job.status.in_(PAYABLE_JOB_STATES),
        )
        .order_by(JobPayment.id)
        .with_for_update(of=JobPayment, key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    queued = 0
    for payment in payments:
        if payment.status == "pending" and payment.payment_method is not None:
            continue
        if payment.status in ("failed", "requires_action"):
            if payment.payment_method == method.payment_method and payment.failure_code != LAPSED:
                continue  # the same declined method: only a different one is worth a try
            new_attempt(payment)
        payment.status = "pending"
        payment.payment_method = method.payment_method
        payment.customer_ref = method.provider_customer_ref
        enqueue(AUTHORIZE_TASK, job_id=payment.job_id)
        queued += 1
    return queued


def new_attempt(payment: JobPayment) -> None:
    """Start a fresh authorisation, with keys of its own (the old intent is left to lapse)."""
    payment.authorize_attempt += 1
    payment.status = "pending"
    payment.provider_payment_id = None
    payment.provider_event_at = None  # a new intent, with a history of its own
    payment.amount_authorized = 0
    payment.failure_code = payment.last_error = None
    payment.payment_method = payment.customer_ref = None
    payment.next_action_type = payment.client_secret = None
    payment.authorization_expires_at = None


# --- capture and settlement ------------------------------------------------------------------


def capture(job_id: int) -> str:
    """Capture a confirmed job's payment and post its split, once (task; idempotent)."""
    payment = payment_of(job_id, lock=True)
    job = db.session.get(Job, job_id)
    if payment is None or job is None:
        return "no_payment"
    if payment.settlement_transaction_id is not None:
        return "settled"
    if not price_due(job):
        return "not_confirmed"
    if payment.status == INVOICED:
        bill(payment, job, kind="job", amount=job.price_amount, at=job.confirmed_at)
        return "settled"
    if payment.status == "authorized":
        amount = min(job.price_amount, payment.amount_authorized)
        try:
            result = get_provider().capture_payment(
                payment.provider_payment_id,
                amount=amount,
                idempotency_key=key_for(job.id, "capture", payment.authorize_attempt),
            )
        except PaymentError as error:
            # The authorisation is gone (lapsed, released): a new one is needed.
            mark_failed(payment, LAPSED, None, error.detail)
            return payment.status
        mark_captured(payment, result.amount_received or amount)
    elif payment.status != "captured":
        return payment.status  # captured once it is authorised
    _settle(payment, job, kind="job", at=job.confirmed_at)
    # Refunds decided before the capture (support mediation) were waiting for the settlement.
    waiting = db.session.scalars(
        select(JobRefund.id)
        .where(JobRefund.job_payment_id == payment.id, JobRefund.status == "pending")
        .order_by(JobRefund.id)
    )
    for refund_id in waiting:
        enqueue(REFUND_TASK, refund_id=refund_id)
    return "settled"


def mark_captured(payment: JobPayment, amount: int) -> None:
    payment.status = "captured"
    payment.failure_code = payment.last_error = None
    payment.amount_captured = amount
    payment.captured_at = utcnow()


def earning_accounts(payment: JobPayment) -> tuple[str, str]:
    """(payable, receivable) of whoever the payment's settlement credited: the provider
    company's when it settled for one, else the member's. A refund or a lost chargeback of
    the job takes the earning back from the same accounts."""
    if payment.organisation_id is not None:
        return (
            account_code_for_organisation(payment.organisation_id),
            f"organisation:{payment.organisation_id}:receivable",
        )
    return (
        account_code_for_member(payment.member_id),
        f"member:{payment.member_id}:receivable",
    )


def receivable_code(customer_id: int) -> str:
    return f"customer:{customer_id}:receivable"


def bill(payment: JobPayment, job: Job, *, kind: str, amount: int, at: datetime) -> None:
    """An invoiced customer's price (or late fee) is booked as their receivable, split like a
    capture; it falls due after their payment terms."""
    terms = db.session.scalar(
        select(Customer.payment_terms_days).where(Customer.id == payment.customer_id)
    )
    payment.invoice_due_at = at + timedelta(days=terms or DEFAULT_TERMS_DAYS)
    _settle(payment, job, kind=kind, at=at, amount=amount, debit=receivable_code(job.customer_id))


def _settle(
    payment: JobPayment,
    job: Job,
    *,
    kind: str,
    at: datetime,
    amount: int | None = None,
    debit: str = CLEARING,
) -> LedgerTransaction:
    """Post the captured amount's split: clearing, the platform's share, the member's earning
    (an invoiced job's: the customer's receivable instead of clearing)."""
    captured = payment.amount_captured if amount is None else amount
    member_id = job.assigned_member_id
    # A job done for a provider company earns the company (on its plan), not the technician.
    organisation_id = job.organisation_id if member_id is not None else None
    if member_id is not None:
        commission = commission_for(
            captured, payment.currency, member_id, at, organisation_id=organisation_id
        )
        share, earning, plan = commission.amount, commission.earning, commission.plan_code
        fee_like = kind == "cancellation_fee" or commission.breakdown.get("rule") == "fixed_fee"
        payment.commission_breakdown = commission.breakdown
    else:  # nobody to compensate: a fee without a member is the platform's alone
        share, earning, plan, fee_like = captured, 0, None, True
    platform = "platform:fees" if fee_like else "platform:revenue"
    lines = [Line(debit, captured), Line(platform, -share)]
    if earning:
        payable = (
            account_code_for_organisation(organisation_id)
            if organisation_id is not None
            else account_code_for_member(member_id)
        )
        lines.append(Line(payable, -earning))
    what = "late-cancellation fee" if kind == "cancellation_fee" else "payment"
    done = "billed on invoice" if debit != CLEARING else "captured"
    transaction = ledger.post(
        key=key_for(job.id, "settlement" if kind == "job" else "cancellation-fee"),
        kind="job_settlement" if kind == "job" else "cancellation_fee",
        currency=payment.currency,
        lines=[line for line in lines if line.amount],
        memo=f"Job {job.id}: {what} {done}",
        job_id=job.id,
        member_id=member_id,
    )
    payment.settlement_transaction_id = transaction.id
    payment.settlement_kind = kind
    payment.commission_amount, payment.member_earning = share, earning
    payment.plan_code, payment.member_id = plan, member_id
    payment.organisation_id = organisation_id
    emit(
        Event(
            name="payment.settled",
            subject_type="job",
            subject_id=job.id,
            actor="system",
            payload={"transaction_id": transaction.id, "kind": kind},
        )
    )
    return transaction


# --- cancellation ----------------------------------------------------------------------------


def cancel(job_id: int) -> str:
    """Release a cancelled job's authorisation, or capture and post its late fee (task)."""
    payment = payment_of(job_id, lock=True)
    job = db.session.get(Job, job_id)
    if payment is None or job is None:
        return "no_payment"
    if job.status != "cancelled" or payment.settlement_transaction_id is not None:
        return payment.status
    fee = job.cancellation_fee_amount
    if payment.superseded_payment_id:
        enqueue(RELEASE_TASK, job_id=job.id)
    if payment.status == INVOICED:
        if fee > 0:
            bill(payment, job, kind="cancellation_fee", amount=fee, at=job.cancelled_at or utcnow())
            return "settled"
        payment.status, payment.cancelled_at = "cancelled", utcnow()
        return payment.status
    provider = get_provider()
    attempt = payment.authorize_attempt
    if payment.status == "authorized" and fee > 0:
        amount = min(fee, payment.amount_authorized)
        try:
            # A partial capture releases the rest of the authorisation.
            result = provider.capture_payment(
                payment.provider_payment_id,
                amount=amount,
                idempotency_key=key_for(job.id, "cancellation-fee", attempt),
            )
        except PaymentError as error:
            payment.status, payment.failure_code = "failed", error.code or "capture_failed"
            payment.last_error = f"The late-cancellation fee could not be captured: {error.detail}"
            return payment.status
        mark_captured(payment, result.amount_received or amount)
    if payment.status == "captured" and fee > 0:
        # Captured as the fee (or at the provider, reported by a webhook before we posted).
        _settle(payment, job, kind="cancellation_fee", at=job.cancelled_at or utcnow())
        return "settled"
    if payment.status == "captured":
        payment.last_error = "Captured at the provider although the job was cancelled free."
        return payment.status
    if payment.status in ("authorized", "requires_action") and payment.provider_payment_id:
        try:
            provider.cancel_payment(
                payment.provider_payment_id, idempotency_key=key_for(job.id, "cancel", attempt)
            )
        except PaymentError as error:  # expired or cancelled already: nothing is held
            payment.last_error = error.detail
    if payment.status in UNAUTHORIZED + ("authorized",):
        if fee > 0 and payment.status != "authorized":
            payment.last_error = (
                f"The late-cancellation fee of {fee} was not collected: nothing was authorised."
            )
        payment.status = "cancelled"
        payment.cancelled_at = utcnow()
    return payment.status
