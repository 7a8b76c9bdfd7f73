"""Every periodic job, in one place: what runs and how often."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str  # a registered task's name (crowd.core.background.task)
    every_seconds: int


PERIODIC = (
    # Safety net of the outbox: work whose hand-over to Redis failed, or was scheduled for later.
    Periodic("relay-outbox", "core.relay_outbox", every_seconds=15),
    # Safety net of notification delivery (email, push): due and retried deliveries, and those
    # whose after-commit hand-over was lost.
    Periodic("send-deliveries", "notifications.send_due", every_seconds=30),
    Periodic("purge-idempotency", "core.purge_idempotency", every_seconds=3600),
    # Sign-in failure counts a day old (unless locked), expired and used password-reset links.
    Periodic("purge-account-throttles", "accounts.purge_stale", every_seconds=600),
    # Alert digests of the CMs on an hourly or daily cadence, once per CM and ended period
    # (a run finding a period's digest written sends nothing).
    Periodic("staff-alert-digests", "accounts.send_alert_digests", every_seconds=300),
    # Console sessions that ended (signed out, timed out) a month ago.
    Periodic("purge-console-sessions", "console.purge_sessions", every_seconds=86400),
    # Offers past their expiry, and the next wave for their jobs.
    Periodic("expire-offers", "jobs.expire_offers", every_seconds=30),
    # Safety nets behind the per-job timers (auto-confirm, close, review publication).
    Periodic("sweep-lifecycle", "jobs.sweep_lifecycle", every_seconds=300),
    Periodic("publish-due-reviews", "jobs.publish_due_reviews", every_seconds=600),
    # Job payments stuck after provider outages: authorise, settle, release, refund again.
    Periodic("sweep-job-payments", "payouts.sweep_job_payments", every_seconds=600),
    # Card holds that would lapse before their job is captured are renewed ahead of time.
    Periodic("renew-job-authorisations", "payouts.renew_job_authorisations", every_seconds=3600),
    # Money: the weekly payout run (the task checks the last run in the database) and the
    # monthly flat fees (billed once per member and month; the daily run retries failures).
    Periodic("payout-run", "payouts.run_payouts_if_due", every_seconds=3600),
    Periodic("bill-monthly-fees", "payouts.bill_monthly_fees", every_seconds=86400),
    # Bank payouts of connected accounts not reconciled yet, transfers that became known since.
    Periodic("reconcile-bank-payouts", "payouts.reconcile_bank_payouts", every_seconds=900),
    # Webhook events whose handler failed are retried (the event itself is stored once).
    Periodic("retry-webhook-events", "payouts.retry_webhook_events", every_seconds=300),
    # Levels: the crowd-wide promotion and demotion run (idempotent within a day).
    Periodic("evaluate-levels", "onboarding.evaluate_levels", every_seconds=86400),
    # Support: SLA breaches are escalated within a minute; resolved tickets close after the
    # auto-close period (SUPPORT_AUTO_CLOSE_DAYS) unless a party replied.
    Periodic("support-sla", "support.check_sla", every_seconds=60),
    Periodic("support-auto-close", "support.close_resolved", every_seconds=300),
    # Onboarding: documents waiting too long for a check alert the responsible CMs (once each).
    Periodic("onboarding-waiting-checks", "onboarding.alert_waiting_checks", every_seconds=900),
    # Proposed resolutions nobody answered apply at their deadline (a timed task per proposal;
    # this catches those whose timed run found the ticket escalated).
    Periodic("support-resolutions", "support.apply_due_resolutions", every_seconds=60),
    # Programmes: published events that have ended become done (attendance can still be marked).
    Periodic("finish-events", "mentoring.finish_events", every_seconds=3600),
    # Broadcasts scheduled for later start at their time (a timed task each; this sweeps up).
    Periodic(
        "start-scheduled-broadcasts", "mentoring.start_scheduled_broadcasts", every_seconds=60
    ),
    # Top performers: a period (quarter by default) is evaluated once it has ended, never before.
    Periodic("top-performers", "mentoring.run_top_performers", every_seconds=86400),
    # Mentoring: release mentees of mentors no longer eligible or away too long, graduate
    # mentees the daily level run promoted, and match Starters still without a mentor.
    Periodic("mentoring-review-mentors", "mentoring.review_mentors", every_seconds=86400),
    Periodic("mentoring-graduate-mentees", "mentoring.graduate_mentees", every_seconds=86400),
    Periodic("mentoring-match-unmatched", "mentoring.match_unmatched", every_seconds=86400),
    # Recruitment: referral codes for active members without one, rewards whose milestone was
    # reached (safety net behind the per-event checks), referrals whose member left → lapsed.
    Periodic("recruitment-referrals", "recruitment.sweep_referrals", every_seconds=86400),
    # Privacy: what the retention rules say is due goes (identity document images after the
    # check's decision, work report files after the job's end, closed tickets' attachments,
    # data exports, abandoned uploads, old inbox entries), in committed batches, logged per run.
    Periodic("enforce-retention", "privacy.enforce_retention", every_seconds=86400),
)
