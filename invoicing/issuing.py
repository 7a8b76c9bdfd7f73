"""Issue the documents a movement of money calls for, exactly once each.

Payouts announces the movements (`payment.settled`, `payment.refunded`, `fee.billed`); the
subscribers in invoicing.events queue `invoicing.issue` in the outbox, so documents are made in
the background after the money moved, and the task below makes them:

  a job's settlement (captured or billed on invoice; a late-cancellation fee likewise)
      the customer's invoice — by the platform (model "platform") or by the platform in the
      member's name (model "agent", the member's VAT status applies, numbered in the member's
      own series); and the member's side: under "platform" a self-billing credit note
      (Gutschrift) for their earning, when they agreed to self-billing; under "agent" the
      platform's invoice for its commission
  a refund (after a dispute, a mediation, a goodwill credit)
      a correction of the customer's invoice for the refunded amount, and a correction of the
      member's side for the member's (or under "agent" the commission's) part of it — each
      referring to the document it corrects, never changing it
  a monthly flat fee billed
      the platform's invoice to the member

Each document has a `source_key` (e.g. "settlement:812:invoice"), unique in the table: a task
that runs twice, or two that race, make it once. Every amount is the ledger's, in minor units;
prices are gross (what the customer pays), and the VAT in them follows invoicing.tax. The
issue date and the service dates are calendar days in Europe/Berlin.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from crowd.core.db import utcnow
from crowd.core.i18n import default_locale, locale_for_country
from crowd.extensions import db
from customers.billing_profile import billing_party as customer_billing
from customers.models import Customer
from invoicing import numbering, tax
from invoicing.config import invoicing_rules
from invoicing.document import DocumentData, Line, Party
from invoicing.models import Document
from invoicing.render import render
from jobs.models import Job
from members.billing_profile import billing_party as member_billing
from members.models import Member
from onboarding.self_billing import agreed_members
from organisations.models import Organisation, OrganisationMembership
from payouts.models import JobPayment, JobRefund, LedgerTransaction, MonthlyFee

LOCAL = ZoneInfo("Europe/Berlin")

# Line texts per language: data, like the documents' other words (invoicing.render.texts).
_LINE = {
    "de": {
        "job": "Auftrag {id}: {title}",
        "cancellation_fee": "Stornogebühr für Auftrag {id}: {title}",
        "earning": "Leistung für Auftrag {id}: {title}",
        "commission": "Vermittlungsprovision für Auftrag {id}: {title}",
        "monthly_fee": "Monatliche Plattformgebühr {period}",
    },
    "en": {
        "job": "Job {id}: {title}",
        "cancellation_fee": "Late-cancellation fee for job {id}: {title}",
        "earning": "Work on job {id}: {title}",
        "commission": "Commission for job {id}: {title}",
        "monthly_fee": "Monthly platform fee {period}",
    },
}


def local_day(moment: datetime | None) -> date:
    return (moment or utcnow()).astimezone(LOCAL).date()


# --- the parties ------------------------------------------------------------------------------


def platform_party() -> Party:
    rules = invoicing_rules()
    return Party(
        name=rules.platform_name,
        street=rules.platform_street,
        postcode=rules.platform_postcode,
        city=rules.platform_city,
        country=rules.platform_country,
        vat_id=rules.platform_vat_id,
        email=rules.platform_email,
        is_business=True,
    )


def _platform_tax() -> tax.TaxParty:
    rules = invoicing_rules()
    return tax.TaxParty(rules.platform_country, True, rules.platform_vat_id)


def _customer(customer_id: int) -> tuple[Party, tax.TaxParty, str | None]:
    """The customer as documents name them, their tax standing, their buyer reference."""
    found = customer_billing(customer_id)
    party = Party(
        name=found["legal_name"],
        street=found["street"],
        postcode=found["postcode"],
        city=found["city"],
        country=found["country"],
        vat_id=found.get("vat_id"),
        email=found.get("email"),
        is_business=bool(found.get("is_business")),
    )
    standing = tax.TaxParty(party.country, party.is_business, party.vat_id)
    return party, standing, found.get("buyer_reference")


def _member(member_id: int) -> tuple[Party, tax.TaxParty]:
    found = member_billing(member_id)
    small = bool(found.get("small_business"))
    party = Party(
        name=found["legal_name"],
        street=found.get("street") or "",
        postcode=found.get("postcode") or "",
        city=found.get("city") or "",
        country=found.get("country") or "DE",
        vat_id=found.get("vat_id"),
        tax_number=found.get("tax_number"),
        email=found.get("email"),
        # Whoever earns on the platform does so as an entrepreneur (Unternehmer) for VAT.
        is_business=True,
    )
    return party, tax.TaxParty(party.country, True, party.vat_id, small_business=small)


def _company(organisation_id: int) -> tuple[Party, tax.TaxParty, int | None]:
    """A provider company as documents name it, its tax standing (an entrepreneur, charging
    VAT: a company's small-business exemption is not recorded), and its first owner's user
    (the language and the email of its documents)."""
    company = db.session.get(Organisation, organisation_id)
    owner = db.session.execute(
        select(Member.user_id, User.email)
        .join(OrganisationMembership, OrganisationMembership.member_id == Member.id)
        .join(User, User.id == Member.user_id)
        .where(
            OrganisationMembership.organisation_id == organisation_id,
            OrganisationMembership.role == "owner",
        )
        .order_by(OrganisationMembership.status != "active", OrganisationMembership.id)
        .limit(1)
    ).first()
    party = Party(
        name=company.legal_name,
        street=company.street,
        postcode=company.postcode,
        city=company.city,
        country=company.country,
        vat_id=company.vat_id,
        tax_number=company.tax_number,
        email=owner.email if owner else None,
        is_business=True,
    )
    standing = tax.TaxParty(party.country, True, party.vat_id, small_business=False)
    return party, standing, owner.user_id if owner else None


def _company_agreed(organisation_id: int) -> bool:
    """Whether the company bills by credit note: its owner, who signs for it, agreed."""
    owners = list(
        db.session.scalars(
            select(OrganisationMembership.member_id).where(
                OrganisationMembership.organisation_id == organisation_id,
                OrganisationMembership.role == "owner",
                OrganisationMembership.status == "active",
            )
        )
    )
    return bool(owners) and bool(agreed_members(owners))


def _language(user_id: int | None, country: str | None) -> str:
    locale = db.session.scalar(select(User.locale).where(User.id == user_id)) if user_id else None
    return locale or locale_for_country(country) or default_locale()


def _customer_language(customer_id: int, country: str) -> str:
    user_id = db.session.scalar(select(Customer.user_id).where(Customer.id == customer_id))
    return _language(user_id, country)


def _member_language(member_id: int, country: str) -> str:
    user_id = db.session.scalar(select(Member.user_id).where(Member.id == member_id))
    return _language(user_id, country)


# --- building documents -----------------------------------------------------------------------


def _lines(texts: list[tuple[str, int, date, int | None]], rate_bp: int) -> tuple[Line, ...]:
    """Lines of gross amounts at one rate, their VAT split so that lines and breakdown agree."""
    splits = tax.allocate_gross([gross for _text, gross, _day, _job in texts], rate_bp)
    return tuple(
        Line(
            description=text,
            service_date=day,
            net=net,
            vat_rate_bp=rate_bp,
            vat=vat,
            gross=gross,
            job_id=job_id,
        )
        for (text, gross, day, job_id), (net, vat) in zip(texts, splits, strict=True)
    )


def _document(
    *,
    kind: str,
    language: str,
    currency: str,
    supplier: Party,
    recipient: Party,
    treatment: tax.Treatment,
    items: list[tuple[str, int, date, int | None]],
    issued_by: Party | None = None,
    notes: tuple[str, ...] = (),
    e_invoice: bool = False,
    **more,
) -> DocumentData:
    lines = _lines(items, treatment.rate_bp)
    return DocumentData(
        kind=kind,
        number="",  # taken when it is issued (issue)
        language=language,
        issue_date=local_day(None),
        currency=currency,
        supplier=supplier,
        recipient=recipient,
        lines=lines,
        scheme=treatment.scheme,
        notes=tuple(dict.fromkeys((*treatment.notes, *notes))),
        issued_by=issued_by,
        e_invoice=e_invoice,
        breakdown=tax.breakdown(lines),
        **more,
    )


def _wants_e_invoice(recipient: Party) -> bool:
    return recipient.is_business and recipient.country in invoicing_rules().e_invoice_countries


def issue(
    data: DocumentData,
    *,
    source_key: str,
    recipient_type: str,
    customer_id: int | None = None,
    member_id: int | None = None,
    job_id: int | None = None,
    corrects: Document | None = None,
    ledger_transaction_id: int | None = None,
    in_name_of_member: int | None = None,
    organisation_id: int | None = None,
    in_name_of_organisation: int | None = None,
) -> Document:
    """Number, render and store one document — or return the one made for `source_key`
    before. The number is taken and the row written in a savepoint: when a twin made the
    document meanwhile, the savepoint gives the number back and the twin's is returned."""
    existing = _by_source(source_key)
    if existing is not None:
        return existing
    kind = data.kind
    series = numbering.series_for(
        kind, in_name_of_member=in_name_of_member, in_name_of_organisation=in_name_of_organisation
    )
    year = data.issue_date.year
    try:
        with db.session.begin_nested():
            sequence = numbering.take(series, year)
            data = replace(data, number=numbering.format_number(series, year, sequence))
            pdf, xml = render(data)
            document = Document(
                number=data.number,
                series=series,
                year=year,
                sequence=sequence,
                kind=kind,
                source_key=source_key,
                recipient_type=recipient_type,
                customer_id=customer_id,
                member_id=member_id,
                organisation_id=organisation_id,
                job_id=job_id,
                corrects_id=corrects.id if corrects is not None else None,
                ledger_transaction_id=ledger_transaction_id,
                on_behalf_of_member=(in_name_of_member or in_name_of_organisation) is not None,
                language=data.language,
                currency=data.currency,
                scheme=data.scheme,
                net_total=data.net_total,
                vat_total=data.vat_total,
                gross_total=data.gross_total,
                issue_date=data.issue_date,
                service_date=min(line.service_date for line in data.lines),
                data=data.to_json(),
                pdf=pdf,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                xml=xml,
            )
            db.session.add(document)
            db.session.flush()
    except IntegrityError:
        twin = _by_source(source_key)
        if twin is None:
            raise
        return twin
    return document


def _by_source(source_key: str) -> Document | None:
    return db.session.scalar(select(Document).where(Document.source_key == source_key))


# --- what each movement of money calls for ----------------------------------------------------


def for_settlement(transaction_id: int) -> list[Document]:
    """The documents of a job's settlement (its price, or its late-cancellation fee)."""
    transaction = db.session.get(LedgerTransaction, transaction_id)
    payment = db.session.scalar(
        select(JobPayment).where(JobPayment.settlement_transaction_id == transaction_id)
    )
    if transaction is None or payment is None:
        return []
    job = db.session.get(Job, payment.job_id)
    fee = payment.settlement_kind == "cancellation_fee"
    gross = (payment.commission_amount or 0) + (payment.member_earning or 0)
    day = local_day((job.cancelled_at if fee else job.completed_at) or transaction.created_at)
    model = invoicing_rules().model
    member_id = payment.member_id
    issued = [_customer_invoice(transaction, payment, job, gross, day, fee, model)]
    crowd_side = member_id is not None or payment.organisation_id is not None
    if crowd_side and model == "platform" and payment.member_earning:
        credit = _member_credit(transaction, payment, job, day)
        if credit is not None:
            issued.append(credit)
    if crowd_side and model == "agent" and payment.commission_amount:
        issued.append(_commission_invoice(transaction, payment, job, day))
    return issued


def _customer_invoice(transaction, payment, job, gross, day, fee, model) -> Document:
    customer, customer_tax, reference = _customer(job.customer_id)
    if not customer.street:
        # No billing address given: a consumer's invoice names where the service was done.
        customer = replace(
            customer,
            street=job.street or "",
            postcode=job.postcode,
            city=job.city,
            country=job.country,
        )
    language = _customer_language(job.customer_id, customer.country)
    company = payment.organisation_id
    in_name_of = payment.member_id if model == "agent" and payment.member_id else None
    in_name_of_company = company if model == "agent" and company else None
    if in_name_of_company:
        supplier, supplier_tax, _owner = _company(company)
        issued_by, notes, in_name_of = platform_party(), ("issued_on_behalf",), None
    elif in_name_of:
        supplier, supplier_tax = _member(in_name_of)
        issued_by, notes = platform_party(), ("issued_on_behalf",)
    else:
        supplier, supplier_tax, issued_by, notes = platform_party(), _platform_tax(), None, ()
    treatment = tax.treatment(
        supplier=supplier_tax, recipient=customer_tax, place=job.country, on=day
    )
    text = _LINE[language]["cancellation_fee" if fee else "job"].format(id=job.id, title=job.title)
    due = local_day(payment.invoice_due_at) if payment.invoice_due_at else None
    data = _document(
        kind="invoice",
        language=language,
        currency=payment.currency,
        supplier=supplier,
        recipient=customer,
        treatment=treatment,
        items=[(text, gross, day, job.id)],
        issued_by=issued_by,
        notes=notes,
        e_invoice=_wants_e_invoice(customer),
        payment="due" if due else "paid",
        due_date=due,
        job_id=job.id,
        buyer_reference=reference,
    )
    return issue(
        data,
        source_key=f"settlement:{transaction.id}:invoice",
        recipient_type="customer",
        customer_id=job.customer_id,
        member_id=None if company else payment.member_id,
        job_id=job.id,
        ledger_transaction_id=transaction.id,
        in_name_of_member=in_name_of,
        organisation_id=company,
        in_name_of_organisation=in_name_of_company,
    )


def _member_credit(transaction, payment, job, day) -> Document | None:
    """The member's self-billing credit note for their earning — only with their agreement
    (without it they invoice the platform themselves)."""
    member_id, company = payment.member_id, payment.organisation_id
    if company:
        if not _company_agreed(company):
            return None
        member, member_tax, owner_user = _company(company)
        language = _language(owner_user, member.country)
        member_id = None
    else:
        if member_id not in agreed_members([member_id]):
            return None
        member, member_tax = _member(member_id)
        language = _member_language(member_id, member.country)
    treatment = tax.treatment(
        supplier=member_tax, recipient=_platform_tax(), place=job.country, on=day
    )
    text = _LINE[language]["earning"].format(id=job.id, title=job.title)
    data = _document(
        kind="self_billing_credit",
        language=language,
        currency=payment.currency,
        supplier=member,
        recipient=platform_party(),
        treatment=treatment,
        items=[(text, payment.member_earning, day, job.id)],
        issued_by=platform_party(),
        notes=("self_billing",),
        payment="settled",
        job_id=job.id,
    )
    return issue(
        data,
        source_key=f"settlement:{transaction.id}:credit",
        recipient_type="member",
        member_id=member_id,
        organisation_id=company,
        job_id=job.id,
        ledger_transaction_id=transaction.id,
    )


def _fee_invoice(
    *,
    member_id: int | None,
    currency: str,
    line: str,
    values: dict,
    gross: int,
    day: date,
    source_key: str,
    ledger_transaction_id: int | None,
    job_id: int | None = None,
    service_period: tuple[date, date] | None = None,
    organisation_id: int | None = None,
) -> Document:
    """The platform's invoice to a member — or to a provider company — for one service (its
    commission on a job, a month's flat fee): the platform's VAT, reverse charge to a
    VAT-registered recipient abroad."""
    if organisation_id:
        member, _standing, owner_user = _company(organisation_id)
        language = _language(owner_user, member.country)
        member_id = None
    else:
        member, _standing = _member(member_id)
        language = _member_language(member_id, member.country)
    treatment = tax.treatment(
        supplier=_platform_tax(),
        recipient=tax.TaxParty(member.country, True, member.vat_id),
        place=invoicing_rules().platform_country,
        on=day,
    )
    data = _document(
        kind="fee_invoice",
        language=language,
        currency=currency,
        supplier=platform_party(),
        recipient=member,
        treatment=treatment,
        items=[(_LINE[language][line].format(**values), gross, day, job_id)],
        e_invoice=_wants_e_invoice(member) and bool(member.vat_id),
        payment="settled",
        job_id=job_id,
        service_period=service_period,
    )
    return issue(
        data,
        source_key=source_key,
        recipient_type="member",
        member_id=member_id,
        organisation_id=organisation_id,
        job_id=job_id,
        ledger_transaction_id=ledger_transaction_id,
    )


def _commission_invoice(transaction, payment, job, day) -> Document:
    return _fee_invoice(
        member_id=payment.member_id,
        organisation_id=payment.organisation_id,
        currency=payment.currency,
        line="commission",
        values={"id": job.id, "title": job.title},
        gross=payment.commission_amount,
        day=day,
        source_key=f"settlement:{transaction.id}:commission",
        ledger_transaction_id=transaction.id,
        job_id=job.id,
    )


def for_monthly_fee(fee_id: int) -> list[Document]:
    """The platform's invoice for a month's flat fee, once it is billed."""
    fee = db.session.get(MonthlyFee, fee_id)
    if fee is None or fee.status != "billed":
        return []
    year, month = (int(part) for part in fee.period.split("-"))
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    invoice = _fee_invoice(
        member_id=fee.member_id,
        organisation_id=fee.organisation_id,
        currency=fee.currency,
        line="monthly_fee",
        values={"period": fee.period},
        gross=fee.amount,
        day=first,
        source_key=f"monthly_fee:{fee.id}:invoice",
        ledger_transaction_id=fee.transaction_id,
        service_period=(first, last),
    )
    return [invoice]


def for_refund(refund_id: int) -> list[Document]:
    """Corrections for a refund: the customer's invoice for the refunded amount, and the
    member's side for its part — each once, each referring to what it corrects. The
    settlement's documents are made first if they are not yet (the tasks may run in any
    order)."""
    refund = db.session.get(JobRefund, refund_id)
    if refund is None or refund.status != "succeeded":
        return []
    payment = db.session.get(JobPayment, refund.job_payment_id)
    if payment is None or payment.settlement_transaction_id is None:
        return []
    settlement = payment.settlement_transaction_id
    for_settlement(settlement)
    originals = {
        document.source_key.rsplit(":", 1)[1]: document
        for document in db.session.scalars(
            select(Document).where(Document.ledger_transaction_id == settlement)
        )
    }
    issued = []
    parts = (
        ("invoice", refund.amount),
        ("credit", refund.member_part or 0),
        ("commission", refund.commission_part or 0),
    )
    for side, amount in parts:
        original = originals.get(side)
        if original is None or amount <= 0:
            continue
        issued.append(
            correct(
                original,
                amount,
                source_key=f"refund:{refund.id}:{side}",
                ledger_transaction_id=refund.ledger_transaction_id,
                day=local_day(refund.refunded_at),
            )
        )
    return issued


def correct(
    original: Document,
    amount: int,
    *,
    source_key: str,
    ledger_transaction_id: int | None,
    day: date,
) -> Document:
    """A correction taking back `amount` (gross, > 0) of `original`, at the original's rate
    and treatment: negative lines, the original's parties, a reference to it."""
    from_original = original.data
    rate = from_original["lines"][0]["vat_rate_bp"]
    language = original.language
    text = {"de": "Korrektur: {text}", "en": "Correction: {text}"}[language].format(
        text=from_original["lines"][0]["description"]
    )
    data = DocumentData(
        kind="correction",
        number="",
        language=language,
        issue_date=local_day(None),
        currency=original.currency,
        supplier=Party(**from_original["supplier"]),
        recipient=Party(**from_original["recipient"]),
        lines=_lines([(text, -amount, day, original.job_id)], rate),
        scheme=original.scheme,
        notes=tuple(from_original.get("notes", ())),
        issued_by=Party(**from_original["issued_by"]) if from_original.get("issued_by") else None,
        corrects_number=original.number,
        corrects_issue_date=original.issue_date,
        corrects_kind=original.kind,
        payment="settled" if original.recipient_type == "member" else "refunded",
        job_id=original.job_id,
        e_invoice=original.xml is not None,
        buyer_reference=from_original.get("buyer_reference"),
    )
    data = replace(data, breakdown=tax.breakdown(data.lines))
    on_behalf = original.on_behalf_of_member
    return issue(
        data,
        source_key=source_key,
        recipient_type=original.recipient_type,
        customer_id=original.customer_id,
        member_id=original.member_id,
        job_id=original.job_id,
        corrects=original,
        ledger_transaction_id=ledger_transaction_id,
        in_name_of_member=original.member_id if on_behalf else None,
        organisation_id=original.organisation_id,
        in_name_of_organisation=original.organisation_id if on_behalf else None,
    )
