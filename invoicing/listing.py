"""Reading documents: who may see which, the lists, the files, the accountant's export.

A customer sees the documents addressed to them; a member those addressed to them and the
invoices the platform issued in their name (the agent model); community managers and admins
see all. Anyone else asking for a document gets 404, as if it did not exist.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import undefer

from crowd.core.auth import Principal
from crowd.core.errors import NotFound, Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from invoicing.models import Document
from organisations.service import MANAGERS, active_membership

# How many documents one export holds at most: a year of a busy platform is split by month.
EXPORT_LIMIT = 100_000


def _query_error(field: str, message: str) -> Unprocessable:
    message = str(message)
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


def visible(principal: Principal) -> Select:
    """The documents the caller may read."""
    query = select(Document)
    if principal.is_staff:
        return query
    if principal.role == "customer" and principal.customer_id is not None:
        return query.where(
            Document.customer_id == principal.customer_id, Document.recipient_type == "customer"
        )
    if principal.role == "member" and principal.member_id is not None:
        own = and_(
            Document.member_id == principal.member_id,
            or_(Document.recipient_type == "member", Document.on_behalf_of_member),
        )
        membership = active_membership(principal.member_id)
        if membership is None or membership.role not in MANAGERS:
            return query.where(own)
        # A company's owners and dispatchers read its documents (a technician does not).
        company = and_(
            Document.organisation_id == membership.organisation_id,
            or_(Document.recipient_type == "member", Document.on_behalf_of_member),
        )
        return query.where(or_(own, company))
    return query.where(Document.id.is_(None))


def _filtered(query: Select, filters: dict) -> Select:
    for name in ("kind", "customer_id", "member_id", "job_id", "number", "currency"):
        value = filters.get(name)
        if value is not None:
            query = query.where(getattr(Document, name) == value)
    issued_from, issued_to = filters.get("issued_from"), filters.get("issued_to")
    if issued_from and issued_to and issued_from > issued_to:
        raise _query_error("to", _("must not be before from"))
    if issued_from:
        query = query.where(Document.issue_date >= issued_from)
    if issued_to:
        query = query.where(Document.issue_date <= issued_to)
    return query


def list_documents(principal: Principal, filters: dict) -> dict:
    """A page of the caller's documents, newest first, filtered."""
    query = _filtered(visible(principal), filters)
    return paginate(query, filters, order=[Document.issue_date, Document.id], descending=True)


def get_document(principal: Principal, document_id: int, *, with_files: bool = False) -> Document:
    query = visible(principal).where(Document.id == document_id)
    if with_files:
        query = query.options(undefer(Document.pdf), undefer(Document.xml))
    document = db.session.scalar(query)
    if document is None:
        raise NotFound(_("No such document."))
    return document


def corrections_of(document: Document) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document).where(Document.corrects_id == document.id).order_by(Document.id)
        )
    )


# --- the accountant's export ------------------------------------------------------------------

CSV_COLUMNS = (
    "number",
    "kind",
    "issue_date",
    "service_date",
    "corrects",
    "recipient_type",
    "customer_id",
    "member_id",
    "job_id",
    "supplier",
    "supplier_vat_id",
    "recipient",
    "recipient_country",
    "recipient_vat_id",
    "scheme",
    "vat_rate",
    "currency",
    "net",
    "vat",
    "gross",
)

# DATEV-style booking lines (the columns of DATEV's "Buchungsstapel" an accountant imports),
# with accounts of the SKR03 chart as data: revenue by VAT treatment, the members' work bought
# in (self-billing credit notes) as third-party services. Customers are debtors 10000 + id,
# members creditors 70000 + id (personal accounts; the accountant maps them on import).
DATEV_COLUMNS = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Buchungstext",
    "EU-Land u. UStID",
)
SKR03 = {
    ("revenue", "standard"): "8400",
    ("revenue", "reduced"): "8300",
    ("revenue", "reverse_charge"): "8337",
    ("revenue", "small_business"): "8200",
    ("purchase", "standard"): "3100",
    ("purchase", "reverse_charge"): "3125",
    ("purchase", "small_business"): "3100",
}


def _export_rows(filters: dict) -> list[Document]:
    if not filters.get("issued_from") or not filters.get("issued_to"):
        raise _query_error("from", _("an export needs a period: from and to"))
    query = _filtered(select(Document), filters).order_by(Document.issue_date, Document.id)
    rows = list(db.session.scalars(query.limit(EXPORT_LIMIT + 1)))
    if len(rows) > EXPORT_LIMIT:
        raise _query_error(
            "to", _("more than {limit} documents: export a shorter period", limit=EXPORT_LIMIT)
        )
    return rows


def _numbers_by_id(documents: list[Document]) -> dict[int, str]:
    wanted = {d.corrects_id for d in documents if d.corrects_id} - {d.id for d in documents}
    known = {d.id: d.number for d in documents}
    if wanted:
        known |= dict(
            db.session.execute(select(Document.id, Document.number).where(Document.id.in_(wanted)))
        )
    return known


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _rate(document: Document) -> str:
    rates = sorted({line["vat_rate_bp"] for line in document.data["lines"]})
    return "/".join(f"{rate // 100}.{rate % 100:02d}" for rate in rates)


def export_csv(filters: dict) -> str:
    documents = _export_rows(filters)
    numbers = _numbers_by_id(documents)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in documents:
        data = d.data
        writer.writerow(
            (
                d.number,
                d.kind,
                d.issue_date.isoformat(),
                d.service_date.isoformat(),
                numbers.get(d.corrects_id, "") if d.corrects_id else "",
                d.recipient_type,
                d.customer_id or "",
                d.member_id or "",
                d.job_id or "",
                data["supplier"]["name"],
                data["supplier"].get("vat_id") or "",
                data["recipient"]["name"],
                data["recipient"]["country"],
                data["recipient"].get("vat_id") or "",
                d.scheme,
                _rate(d),
                d.currency,
                _money(d.net_total),
                _money(d.vat_total),
                _money(d.gross_total),
            )
        )
    return out.getvalue()


def _base_kind(document: Document, kinds: dict[int, str]) -> str:
    return kinds.get(document.corrects_id, "invoice") if document.corrects_id else document.kind


def export_datev(filters: dict) -> str:
    """One booking line per document, semicolon-separated with decimal commas as DATEV reads
    them; a correction books the other way round (H instead of S)."""
    documents = _export_rows(filters)
    numbers = _numbers_by_id(documents)
    kinds = {d.id: d.kind for d in documents}
    missing = {d.corrects_id for d in documents if d.corrects_id} - set(kinds)
    if missing:
        kinds |= dict(
            db.session.execute(select(Document.id, Document.kind).where(Document.id.in_(missing)))
        )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(DATEV_COLUMNS)
    for d in documents:
        base = _base_kind(d, kinds)
        purchase = base == "self_billing_credit"
        scheme = d.scheme
        if scheme == "standard" and d.data["lines"][0]["vat_rate_bp"] in (700, 1000, 260, 250):
            scheme = "reduced"
        counter = SKR03.get(("purchase" if purchase else "revenue", scheme), "8400")
        if d.recipient_type == "customer":
            personal = str(10000 + (d.customer_id or 0))
        elif d.organisation_id is not None:
            # A provider company's own creditor account, apart from the members' range.
            personal = str(90000 + d.organisation_id)
        else:
            personal = str(70000 + (d.member_id or 0))
        amount = abs(d.gross_total)
        # Revenue: the debtor is debited (S); a purchase credits the creditor (H); a
        # correction books the other way round.
        debit = (not purchase) == (d.gross_total >= 0)
        partner_vat = d.data["recipient" if not purchase else "supplier"].get("vat_id") or ""
        writer.writerow(
            (
                f"{amount // 100},{amount % 100:02d}",
                "S" if debit else "H",
                d.currency,
                personal,
                counter,
                "",
                d.issue_date.strftime("%d%m"),
                d.number,
                numbers.get(d.corrects_id, "") if d.corrects_id else "",
                d.data["lines"][0]["description"][:60],
                partner_vat if d.scheme == "reverse_charge" else "",
            )
        )
    return out.getvalue()


def period_name(filters: dict) -> str:
    first: date = filters["issued_from"]
    last: date = filters["issued_to"]
    return f"{first.isoformat()}-{last.isoformat()}"
