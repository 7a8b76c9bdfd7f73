"""The channels a notification may travel on and each kind's policy: its default channels,
whether it is transactional (at least one channel stays on) or marketing (needs consent),
and who sends it.

"inbox" is implicit — the notification row itself, always written. The other channels
register a sender here (`register_channel`): "email" (notifications.email) and "push"
(notifications.push.channel, plugged in by notifications.wiring). A delivery is only created
for a registered channel.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from crowd.core.i18n import N_

INBOX = "inbox"


@dataclass(frozen=True)
class SendResult:
    """What a channel's sender answers: sent (with the provider's message id), temporary
    (try again later), permanent (the address is dead: suppress it) or no_address."""

    status: str
    provider_message_id: str | None = None
    error: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Channel:
    name: str
    # send(outgoing, content) -> SendResult (notifications.email.Outgoing; content: what the
    # delivery says instead of the notification, or None). Called with no row locked.
    send: Callable[..., SendResult]
    # user id → the address this channel writes to (suppressions are kept per address);
    # None: the channel finds its own (push: the user's devices).
    address: Callable[[int], str | None] | None = None
    # [user id] → {user id: address}: `address` for a batch of the sender in one query.
    addresses: Callable[[list[int]], dict[int, str | None]] | None = None
    # Whether quiet hours hold this channel's deliveries back (email and push: yes).
    quiet: bool = True
    # () -> a SELECT of the user ids this channel can reach now (push: users with an active
    # device), or None: everyone. Nobody else gets a delivery on it: no row per member who
    # never installed the app.
    reachable: Callable[[], object] | None = None
    # A context one run of the sender holds while it sends (email: one SMTP connection for
    # every message of the run instead of one per message); None: nothing to hold.
    session: Callable[[], AbstractContextManager] | None = None
    # send_many([(outgoing, content)]) -> [SendResult], one per item in order: a batch of the
    # sender at once (push: its devices and badges read in a few queries); None: `send` each.
    send_many: Callable[[list], list[SendResult]] | None = None


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> None:
    """Plug a channel in (at start, from a package's wiring); the same name replaces it."""
    CHANNELS[channel.name] = channel


def delivery_channels() -> list[str]:
    """The registered channels beyond the inbox, in a stable order."""
    return sorted(CHANNELS)


@dataclass(frozen=True)
class KindPolicy:
    channels: frozenset[str]
    # Transactional: the user can't switch off every channel of it (a payout, a ticket).
    transactional: bool = False
    # Marketing: delivered beyond the inbox only to users with a current consent to `topic`.
    topic: str | None = None
    # Which MAIL_FROM_* address sends it: default, jobs, support or news.
    sender: str = "default"
    # Security notices (a password reset) are not held back by quiet hours.
    urgent: bool = False
    # In English, marked for the catalogue: the email's unsubscribe line translates it.
    description: str = ""
    labels: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Outgoing:
    """A delivery as a channel sees it: plain values, read before the send."""

    # None for an email to an address without an account (notifications.addressed).
    delivery_id: int | None
    notification_id: int | None
    user_id: int | None
    kind: str
    channel: str
    title: str
    body: str
    data: dict
    dedupe_key: str
    policy: KindPolicy
    address: str | None
    # The recipient's language, when the sender read it with the batch (None: look it up).
    locale: str | None = None


PUSH, EMAIL = "push", "email"
_INBOX_ONLY = KindPolicy(frozenset(), description=N_("in the app only"))

# Prefix → policy, the longest prefix wins (see policy_for). Kinds not matched: inbox only.
POLICIES: dict[str, KindPolicy] = {
    "offer.": KindPolicy(frozenset({PUSH}), sender="jobs", description=N_("offers")),
    "job.assigned": KindPolicy(
        frozenset({PUSH}), True, sender="jobs", description=N_("assignments")
    ),
    "job.reminder": KindPolicy(frozenset({PUSH}), True, sender="jobs", description=N_("reminders")),
    "job.cancelled": KindPolicy(
        frozenset({EMAIL, PUSH}), True, sender="jobs", description=N_("cancellations")
    ),
    "job.disputed": KindPolicy(
        frozenset({EMAIL, PUSH}), True, sender="support", description=N_("disputes")
    ),
    "job.": KindPolicy(frozenset({PUSH}), sender="jobs", description=N_("job progress")),
    "payout": KindPolicy(frozenset({EMAIL, PUSH}), True, sender="jobs", description=N_("payouts")),
    "payment.": KindPolicy(
        frozenset({EMAIL}), True, sender="jobs", description=N_("payment alerts")
    ),
    "plan.changed": KindPolicy(frozenset({EMAIL}), True, description=N_("plan changes")),
    "level.changed": KindPolicy(frozenset({EMAIL, PUSH}), True, description=N_("level changes")),
    "support.": KindPolicy(
        frozenset({EMAIL, PUSH}), True, sender="support", description=N_("support tickets")
    ),
    "account.": KindPolicy(frozenset({EMAIL}), True, urgent=True, description=N_("account access")),
    "consent.": KindPolicy(frozenset({EMAIL}), True, urgent=True, description=N_("consent")),
    # A person's export of their data (privacy): the notice says it is ready to download.
    "data_export.": KindPolicy(frozenset({EMAIL}), True, description=N_("data exports")),
    "broadcast.announcement": KindPolicy(
        frozenset({EMAIL, PUSH}), sender="news", description=N_("announcements")
    ),
    "broadcast.newsletter": KindPolicy(
        frozenset({EMAIL, PUSH}), sender="news", topic="newsletter", description=N_("newsletters")
    ),
    "onboarding.": KindPolicy(frozenset({EMAIL}), description=N_("onboarding")),
    # Alerts for community managers (accounts.staff_alerts): by email beyond the inbox, each
    # at once or gathered in an hourly or daily digest as each CM chose (accounts.alert_digests
    # keeps the per-alert email of digest readers from being queued at all).
    **{
        kind: KindPolicy(frozenset({EMAIL}), True, sender="support", description=N_("staff alerts"))
        for kind in (
            "job.escalated",
            "support.chargeback_opened",
            "support.sla_due_soon",
            "support.sla_breached",
            "community.post_reported",
            "onboarding.check_waiting",
        )
    },
    "staff.alert_digest": KindPolicy(
        frozenset({EMAIL}), True, sender="support", description=N_("alert digests")
    ),
    "mentoring.": KindPolicy(frozenset({PUSH}), description=N_("mentoring")),
    # Provider companies: invitations by email link, also to addresses without an account.
    "organisation.": KindPolicy(frozenset({EMAIL}), True, description=N_("provider companies")),
}


def policy_for(kind: str) -> KindPolicy:
    """The kind's policy: the entry with the longest prefix of `kind`, else inbox only."""
    matches = [prefix for prefix in POLICIES if kind.startswith(prefix)]
    return POLICIES[max(matches, key=len)] if matches else _INBOX_ONLY


def known_kind(kind: str) -> bool:
    """Whether preferences may name this kind (one the catalogue has a policy for)."""
    return any(kind.startswith(prefix) for prefix in POLICIES)


# The kinds users see in their preferences (GET /me/notification-preferences).
KINDS = (
    "offer.new",
    "offer.withdrawn",
    "job.assigned",
    "job.reminder",
    "job.started",
    "job.completed",
    "job.confirmed",
    "job.cancelled",
    "job.disputed",
    "payment.failed",
    "payment.action_required",
    "plan.changed",
    "level.changed",
    "support.ticket_status",
    "support.ticket_closed",
    "onboarding.approved",
    "data_export.ready",
    "mentoring.mentor_assigned",
    "broadcast.announcement",
    "broadcast.newsletter",
)
