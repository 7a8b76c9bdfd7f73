"""Self-billing: the member agrees that the platform issues the documents for their earnings
as credit notes (Gutschrift, DE §14 (2) sentence 2 UStG; AT §11 (7) UStG) — agreed while
onboarding, changeable later.

The agreement's text is data here, per version and language, German and English: the
wording is the agreement, so it is kept exactly, not in the message catalogue. A new text is
a new version; a member deciding on another version than the current one gets 409 and reads
the current one. Every decision is a new row (`SelfBillingAgreement`), the newest is in
force; deciding the same again on the same text records nothing new.

Invoicing asks `agreed_members(ids)` before it issues credit notes for a period.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.i18n import _, current_locale
from crowd.extensions import db
from members.access import own_member
from onboarding.errors import SelfBillingTextOutdated
from onboarding.models import SelfBillingAgreement

CURRENT_VERSION = "2026-01"
TEXTS = {
    "2026-01": {
        "de": {
            "title": "Vereinbarung über die Abrechnung im Gutschriftverfahren",
            "body": (
                "Ich bin damit einverstanden, dass die Plattform über die Leistungen, die ich "
                "über sie erbringe, mit Gutschriften abrechnet (Deutschland: § 14 Abs. 2 Satz 2 "
                "UStG; Österreich: § 11 Abs. 7 UStG). Jede Gutschrift gilt als meine Rechnung "
                "und trägt die Angabe „Gutschrift“. Ich prüfe jede Gutschrift und widerspreche "
                "unverzüglich, wenn sie nicht zutrifft; mit meinem Widerspruch verliert sie die "
                "Wirkung einer Rechnung. Meine steuerlichen Angaben (Kleinunternehmerregelung, "
                "Steuernummer, USt-IdNr.) halte ich in meinem Abrechnungsprofil aktuell. Ich "
                "kann diese Vereinbarung jederzeit für künftige Abrechnungen widerrufen; dann "
                "stelle ich meine Rechnungen selbst."
            ),
        },
        "en": {
            "title": "Agreement on self-billing",
            "body": (
                "I agree that the platform bills the services I provide through it by credit "
                "notes it issues (self-billing; Germany: section 14 (2) sentence 2 UStG; "
                "Austria: section 11 (7) UStG). Each credit note counts as my invoice and is "
                "marked “Gutschrift” (self-billing). I check each credit note and object "
                "without delay when it is wrong; my objection takes away its effect as an "
                "invoice. I keep my tax details (small business scheme, tax number, VAT ID) "
                "current in my billing profile. I may withdraw this agreement at any time for "
                "future billing; I then issue my invoices myself."
            ),
        },
    },
}


def text(version: str = CURRENT_VERSION, language: str | None = None) -> dict:
    """The agreement's text of `version` in `language` (the request's, else German)."""
    texts = TEXTS[version]
    language = language if language in texts else current_locale()
    language = language if language in texts else "de"
    return {"version": version, "language": language, **texts[language]}


def agreement_of(member_id: int) -> SelfBillingAgreement | None:
    """The member's current decision (their newest), None when they never decided."""
    return db.session.scalar(
        select(SelfBillingAgreement)
        .where(SelfBillingAgreement.member_id == member_id)
        .order_by(SelfBillingAgreement.id.desc())
        .limit(1)
    )


def current_decisions(member_ids: Iterable[int]) -> dict[int, SelfBillingAgreement]:
    """Each member's current decision, for those who decided, in one query."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    newest = (
        select(func.max(SelfBillingAgreement.id))
        .where(SelfBillingAgreement.member_id.in_(ids))
        .group_by(SelfBillingAgreement.member_id)
    )
    rows = db.session.scalars(
        select(SelfBillingAgreement).where(SelfBillingAgreement.id.in_(newest))
    )
    return {row.member_id: row for row in rows}


def agreed_members(member_ids: Iterable[int]) -> dict[int, tuple[str, datetime]]:
    """{member id: (text version, decided at)} of the members whose current decision is to
    self-bill; members who declined, withdrew or never decided are left out."""
    return {
        member_id: (row.text_version, row.decided_at)
        for member_id, row in current_decisions(member_ids).items()
        if row.agreed
    }


# --- the member's side ----------------------------------------------------------------------


def _standing(member_id: int) -> dict:
    decision = agreement_of(member_id)
    return {
        "text": text(),
        "decided": decision is not None,
        "agreed": decision.agreed if decision else None,
        "text_version": decision.text_version if decision else None,
        "decided_at": decision.decided_at if decision else None,
    }


def own_agreement(*, actor: Principal) -> dict:
    """The current text in the caller's language and their current decision."""
    return _standing(own_member(actor).id)


def decide(*, actor: Principal, agreed: bool, text_version: str) -> dict:
    """Agree to self-billing or decline (a withdrawal, if they had agreed) on the current text;
    the same decision on the same text again records nothing new."""
    # The member row lock makes a double tap record one decision.
    member = own_member(actor, lock=True)
    if text_version != CURRENT_VERSION:
        raise SelfBillingTextOutdated(
            _(
                "Version {text_version} is not the current self-billing agreement; read "
                "version {current_version} and decide on that.",
                text_version=text_version,
                current_version=CURRENT_VERSION,
            ),
            state="outdated",
        )
    current = agreement_of(member.id)
    if current is None or current.agreed != agreed or current.text_version != text_version:
        db.session.add(
            SelfBillingAgreement(
                member_id=member.id,
                agreed=agreed,
                text_version=text_version,
                language=text()["language"],
            )
        )
        db.session.flush()
    return _standing(member.id)


def history(member_id: int) -> list[SelfBillingAgreement]:
    """Every decision of the member, oldest first."""
    return list(
        db.session.scalars(
            select(SelfBillingAgreement)
            .where(SelfBillingAgreement.member_id == member_id)
            .order_by(SelfBillingAgreement.id)
        )
    )
