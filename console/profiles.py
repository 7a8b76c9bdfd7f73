"""What the console's people pages show, gathered from the services the API uses: a member's
profile, level, plan, counters, reviews, jobs, tickets, sanctions, mentoring, badges, referrals
and contact history; a customer's profile, addresses, jobs with their payments, tickets,
favourite and blocked members, billing agreement and contact history."""

from __future__ import annotations

from accounts.service import get_user
from crowd.core.auth import Principal
from crowd.core.i18n import N_
from customers.service import get_customer, staff_member_lists
from jobs.queries import list_jobs_for_staff
from jobs.reviews import member_reviews
from members.service import get_member, status_history
from mentoring.mentors.lifecycle import list_mentorships
from mentoring.top_performers.queries import member_top_performer
from onboarding.levels.progress import level_overview
from payouts.job_money.views import payment_statuses
from payouts.plans import member_plans
from recruitment.queries import list_referrals
from support.contacts import list_contacts
from support.models import CONTACT_CHANNELS, CONTACT_KINDS, SANCTION_KINDS
from support.sanctions import list_sanctions
from support.tickets.queue import list_tickets

LIMIT = 20
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
# Values the pages show through _(): members' statuses and kinds, sanctions, contact kinds and
# channels (shown with spaces for underscores), customers' kinds and billing.
LABELS = (
    *(N_("applicant"), N_("active"), N_("paused"), N_("suspended"), N_("offboarded")),
    *(N_("professional"), N_("private"), N_("person"), N_("business")),
    *(N_("warn"), N_("suspend"), N_("reinstate")),
    *(N_("note"), N_("call"), N_("conversation"), N_("email")),
    *(N_("phone"), N_("video"), N_("chat"), N_("in person"), N_("internal")),
    *(N_("card"), N_("invoice")),
)


def _newest_last(page: dict) -> list:
    return list(reversed(page["items"]))


def _with_authors(view: dict) -> dict:
    """The contact history's authors by id, for their names."""
    ids = {contact.author_id for contact in view["contacts"]}
    view["authors"] = {user_id: get_user(user_id).display_name for user_id in ids}
    return view


def member_profile(actor: Principal, member_id: int) -> dict:
    """Everything the member page shows (404 when there is no such member)."""
    member = get_member(actor=actor, member_id=member_id)
    jobs = list_jobs_for_staff(actor=actor, member_id=member.id, limit=LIMIT)
    tickets = list_tickets(actor=actor, member_id=member.id, limit=LIMIT)
    return _with_authors(
        {
            "member": member,
            "account": get_user(member.user_id),
            "level": level_overview(member.id),
            "plans": member_plans(actor=actor, member_id=member.id),
            "reviews": member_reviews(actor=actor, member_id=member.id, limit=5)["items"],
            "jobs": jobs["items"],
            "jobs_total": jobs["page"].get("total"),
            "tickets": tickets["items"],
            "tickets_total": tickets["page"].get("total"),
            # Oldest first in the API (a record); the page shows the latest on top.
            "sanctions": _newest_last(list_sanctions(actor=actor, member_id=member.id, limit=100)),
            "status_history": _newest_last(
                status_history(actor=actor, member_id=member.id, limit=100)
            ),
            "mentored_by": list_mentorships(actor=actor, mentee_id=member.id)["items"],
            "mentoring": list_mentorships(actor=actor, mentor_id=member.id)["items"],
            "top_performer": member_top_performer(actor=actor, member_id=member.id),
            "referred_by": list_referrals(actor=actor, referred_id=member.id)["items"],
            "referrals": list_referrals(actor=actor, referrer_id=member.id, limit=LIMIT)["items"],
            "contacts": list_contacts(
                actor=actor, subject="member", subject_id=member.id, limit=LIMIT
            )["items"],
            "sanction_kinds": SANCTION_KINDS,
            "contact_kinds": CONTACT_KINDS,
            "contact_channels": CONTACT_CHANNELS,
            "weekdays": WEEKDAYS,
        }
    )


def customer_profile(actor: Principal, customer_id: int) -> dict:
    """Everything the customer page shows (404 when there is no such customer)."""
    customer = get_customer(actor=actor, customer_id=customer_id)
    jobs = list_jobs_for_staff(actor=actor, customer_id=customer.id, limit=LIMIT)
    payments = payment_statuses(actor=actor, job_ids=[job["id"] for job in jobs["items"]])
    tickets = list_tickets(actor=actor, customer_id=customer.id, limit=LIMIT)
    return _with_authors(
        {
            "customer": customer,
            "account": get_user(customer.user_id),
            "billing_set_by": get_user(customer.billing_set_by_user_id)
            if customer.billing_set_by_user_id
            else None,
            "jobs": jobs["items"],
            "jobs_total": jobs["page"].get("total"),
            "payments": payments,
            "tickets": tickets["items"],
            "tickets_total": tickets["page"].get("total"),
            "lists": staff_member_lists(actor=actor, customer_id=customer.id),
            "contacts": list_contacts(
                actor=actor, subject="customer", subject_id=customer.id, limit=LIMIT
            )["items"],
            "contact_kinds": CONTACT_KINDS,
            "contact_channels": CONTACT_CHANNELS,
        }
    )
