"""The double-entry ledger: post balanced transactions, reverse them, read balances, check it all.

Every movement of money is a transaction of at least two lines on accounts of one currency whose
amounts sum to zero (> 0 debits an account, < 0 credits it). Transactions and their entries are
never changed or deleted — a mistake is corrected by `reverse`, which posts the negated lines.
Each transaction carries a client-chosen `key`: posting the same key again returns the first
transaction when the content is the same (a retry) and is refused with 409 when it differs.

Accounts are created on first use; their kind and whether they may go negative follow from the
code by ACCOUNT_TYPES below, the one table of what accounts exist. Balances are kept in the
account's normal direction (debit-normal asset and expense accounts hold debits − credits;
credit-normal liability and revenue accounts hold credits − debits): on the account row, under
a row lock taken in sorted code order so concurrent postings never deadlock, or — for the
platform's hot accounts, which have no floor — spread over shard rows so that postings never
queue on them (`_post` explains the choice). A member's payable is what the platform owes them
and never goes below zero.

A worked example — a 100.00 EUR job confirmed at 20 % commission (see payouts.plans):

    post(key=f"job:{job.id}:settle", kind="job_settlement", currency="EUR", job_id=job.id,
         member_id=member.id, lines=[Line("clearing:payments", 10000),
                                     Line("platform:revenue", -2000),
                                     Line(account_code_for_member(member.id), -8000)])

Services here never commit: the caller's unit of work (request or task) does. A refused posting
raises a DomainError (422 malformed, 409 conflicting) before anything is written.
"""

from __future__ import annotations

import functools
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.orm.util import identity_key

from crowd.core.db import is_postgres, one_of, utcnow
from crowd.core.errors import DomainError, NotFound, field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.models import Job
from members.models import Member
from organisations.models import Organisation
from payouts.errors import (
    AlreadyReversed,
    InsufficientBalance,
    LedgerKeyUsed,
    ReversalNotReversible,
)
from payouts.models.ledger import (
    LEDGER_CURRENCIES,
    LedgerAccount,
    LedgerBalanceShard,
    LedgerEntry,
    LedgerTransaction,
)

CURRENCIES = LEDGER_CURRENCIES
MAX_LINES = 50
# Far beyond any real posting, far from BIGINT overflow of the kept balances.
MAX_LINE_AMOUNT = 10**13
MAX_KEY_LENGTH = 255
KIND_PATTERN = re.compile(r"\A[a-z][a-z0-9_.:-]{0,39}\Z")
DEBIT_NORMAL = frozenset({"asset", "expense"})
# The hot accounts' balance rows (see _post); the unit of work's pick is kept under _SHARD.
SHARDS = 16
_SHARD = "payouts.ledger.shard"


@dataclass(frozen=True)
class Line:
    """One posting line; amount > 0 debits the account, < 0 credits it (minor units, ≠ 0)."""

    account: str
    amount: int


@dataclass(frozen=True)
class AccountType:
    """A family of accounts: its code pattern ({id} stands for a positive integer) and rules."""

    pattern: str
    kind: str
    allow_negative: bool
    description: str
    # "member": {id} is members.id and fills LedgerAccount.member_id; "organisation": {id} is
    # organisations.id (a provider company's accounts).
    owner: str | None = None

    @property
    def split(self) -> bool:
        """A hot account: one of the platform's own (no {id}) without a floor. Almost every
        posting takes a line of one, so its balance is split over SHARDS rows (see _write)."""
        return self.allow_negative and "{id}" not in self.pattern


# The one table of accounts. A code that matches none of these is refused with 422.
ACCOUNT_TYPES: tuple[AccountType, ...] = (
    AccountType(
        "clearing:payments",
        "asset",
        True,
        "Customer payments captured at the payment provider, not yet paid out or refunded.",
    ),
    AccountType(
        "customer:{id}:receivable",
        "asset",
        True,
        "What a customer owes (customers.id): charges and fees billed, not yet captured.",
    ),
    AccountType(
        "member:{id}:payable",
        "liability",
        False,
        "What the platform owes a member (members.id): earnings not yet paid out. Never < 0.",
        owner="member",
    ),
    AccountType(
        "member:{id}:receivable",
        "asset",
        False,
        "What a member owes the platform, e.g. a monthly fee their payable could not cover.",
        owner="member",
    ),
    AccountType(
        "organisation:{id}:payable",
        "liability",
        False,
        "What the platform owes a provider company (organisations.id): its technicians' "
        "earnings not yet paid out. Never < 0.",
        owner="organisation",
    ),
    AccountType(
        "organisation:{id}:receivable",
        "asset",
        False,
        "What a provider company owes the platform, e.g. a refund its payable could not cover.",
        owner="organisation",
    ),
    AccountType(
        "payouts:in_transit",
        "liability",
        False,
        "Payouts sent to members and not yet confirmed paid (or failed). Never < 0.",
    ),
    AccountType("platform:revenue", "revenue", True, "Commission earned on jobs."),
    AccountType(
        "platform:fees",
        "revenue",
        True,
        "Monthly flat fees, fixed per-job fees and late-cancellation fees.",
    ),
    AccountType("platform:refunds", "expense", True, "Refunds the platform bears itself."),
    AccountType("platform:provider_fees", "expense", True, "The payment provider's fees."),
    AccountType(
        "platform:goodwill", "expense", True, "Goodwill credits and promotions the platform pays."
    ),
    AccountType("platform:disputes", "expense", True, "Chargebacks and disputes lost."),
    AccountType(
        "clearing:disputes",
        "asset",
        True,
        "Money the customer's bank withdrew for an open chargeback: back on a win (reinstated), "
        "allocated by the lost-chargeback policy on a loss.",
    ),
    AccountType("platform:rewards", "expense", True, "Programme rewards: mentors, referrals."),
)

_ID = r"([1-9][0-9]{0,17})"
_MATCHERS = tuple(
    (re.compile(r"\A" + re.escape(t.pattern).replace(r"\{id\}", _ID) + r"\Z"), t)
    for t in ACCOUNT_TYPES
)


def account_code_for_member(member_id: int) -> str:
    """The code of a member's payable account: what the platform owes them."""
    return f"member:{member_id}:payable"


def account_code_for_organisation(organisation_id: int) -> str:
    """The code of a provider company's payable account: what the platform owes it."""
    return f"organisation:{organisation_id}:payable"


def account_type(code: str) -> tuple[AccountType, int | None]:
    """The type of account `code` and the id in it (None for singleton accounts); 422 if none."""
    if isinstance(code, str):
        found = _matched(code)
        if found is not None:
            return found
    raise field_error("lines", _("unknown account {code!r}", code=code))


@functools.lru_cache(maxsize=4096)
def _matched(code: str) -> tuple[AccountType, int | None] | None:
    # Cached: a posting's accounts are mostly the platform's few and the same customers' and
    # members' again; matching tried up to all of ACCOUNT_TYPES' patterns per line.
    for matcher, kind in _MATCHERS:
        match = matcher.match(code)
        if match:
            return kind, int(match.group(1)) if match.groups() else None
    return None


def normal_sign(kind: str) -> int:
    """+1 when debits raise the kept balance (asset, expense), −1 when credits do."""
    return 1 if kind in DEBIT_NORMAL else -1


# --- posting --------------------------------------------------------------------------------


def post(
    *,
    key: str,
    kind: str,
    currency: str,
    lines: Sequence[Line],
    memo: str = "",
    job_id: int | None = None,
    member_id: int | None = None,
) -> LedgerTransaction:
    """Post a balanced transaction once per key; a retry with the same content returns it.

    422: fewer than two lines, a zero or non-integer amount, lines not summing to zero, an
    unknown account, an unknown currency, a job or member that does not exist. 409: the key was
    used for different content, or a never-negative account would go below zero (then nothing
    is written).
    """
    return _post(
        key=key,
        kind=kind,
        currency=currency,
        lines=_normalise(lines),
        memo=memo,
        job_id=job_id,
        member_id=member_id,
        reverses_id=None,
    )


@dataclass(frozen=True)
class Posting:
    """One transaction for `post_many`: the arguments of `post`."""

    key: str
    kind: str
    currency: str
    lines: Sequence[Line]
    memo: str = ""
    job_id: int | None = None
    member_id: int | None = None


def post_many(postings: Sequence[Posting]) -> dict[str, int]:
    """Post many transactions as `post` posts each, in a few statements: the transaction id
    per key (a key already posted with the same content answers with that transaction).

    Refused as `post` refuses (422, 409) before anything of the batch is written; the floors
    are checked posting by posting in the given order. The accounts with a floor are locked
    once for the batch, in code order (the lock order of every posting); the balance changes
    are summed per account and written once per account (the hot accounts' on one shard).
    """
    if len(postings) == 1:
        # A batch of one is `post` (on PostgreSQL one round trip).
        (one,) = postings
        return {one.key: post(**_arguments(one, one.lines)).id}
    normalised = [(p, _normalise(p.lines)) for p in postings]
    if not normalised:
        return {}
    types: dict[str, dict] = defaultdict(dict)
    for posting, lines in normalised:
        kind_of = _checked(posting, lines)
        types[posting.currency].update(kind_of)
    _check_references(normalised)
    posted: dict[str, int] = {}
    for currency in sorted(types):
        batch = [(p, lines) for p, lines in normalised if p.currency == currency]
        posted |= _post_batch(currency, batch, types[currency])
    return posted


def _checked(posting: Posting, lines: list[Line]) -> dict[str, tuple]:
    """`_validate` without the look-ups of jobs and members (done for the batch at once)."""
    return _validate(posting.key, posting.kind, posting.currency, lines, posting.memo, None, None)


def _check_references(normalised: list[tuple[Posting, list[Line]]]) -> None:
    for field, model in (("job_id", Job), ("member_id", Member)):
        wanted = {getattr(p, field) for p, _lines in normalised} - {None}
        found: set[int] = set()
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 1000):
            chunk = ordered[start : start + 1000]
            found |= set(db.session.scalars(select(model.id).where(one_of(model.id, chunk))))
        if wanted - found:
            raise field_error(field, _("no such job") if field == "job_id" else _("no such member"))


def _post_batch(currency: str, batch: list, types: dict) -> dict[str, int]:
    accounts = _lock_accounts(currency, types)
    keys = [p.key for p, _lines in batch]
    if len(set(keys)) != len(keys):
        raise ValueError("post_many: a key appears twice in the batch")
    posted: dict[str, int] = {}
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        taken = db.session.scalars(
            select(LedgerTransaction.key).where(one_of(LedgerTransaction.key, chunk, String()))
        ).all()
        for key in taken:
            posting, lines = next((p, lines) for p, lines in batch if p.key == key)
            # Under the locks: a retry answers with the first posting, other content is 409.
            posted[key] = _by_key(key, _content(posting, lines)).id
    fresh = [(p, lines) for p, lines in batch if p.key not in posted]
    if not fresh:
        return posted
    running = {code: account.balance for code, account in accounts.items()}
    totals: dict[str, int] = defaultdict(int)
    for _posting, lines in fresh:
        deltas: dict[str, int] = defaultdict(int)
        for line in lines:
            deltas[line.account] += line.amount
        for code in sorted(deltas):
            account = accounts[code]
            change = normal_sign(account.kind) * deltas[code]
            if not account.allow_negative and running[code] + change < 0:
                raise _insufficient(code, currency, running[code], change)
            running[code] += change
            totals[code] += change
    ids = _insert_transactions(fresh)
    if ids is None:
        # A twin took a key since we looked (it posted to none of our locked accounts):
        # posted one by one, each answering as `post` does.
        for posting, lines in fresh:
            posted[posting.key] = post(**_arguments(posting, lines)).id
        return posted
    _insert_entries(fresh, ids, accounts)
    _add_to_balances(totals, accounts)
    _note_balances(accounts, totals)
    return posted | ids


def _content(posting: Posting, lines: list[Line]) -> tuple:
    return (
        posting.kind,
        posting.currency,
        posting.memo,
        posting.job_id,
        posting.member_id,
        None,
        _line_multiset(lines),
    )


def _arguments(posting: Posting, lines: list[Line]) -> dict:
    return {
        "key": posting.key,
        "kind": posting.kind,
        "currency": posting.currency,
        "lines": lines,
        "memo": posting.memo,
        "job_id": posting.job_id,
        "member_id": posting.member_id,
    }


def _upsert():
    if is_postgres():
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        upsert = sqlite_insert
    return upsert


def _insert_transactions(fresh: list) -> dict[str, int] | None:
    """The batch's transactions; their ids by key, or None (and nothing kept) when a key was
    taken meanwhile. PostgreSQL: one INSERT … SELECT FROM unnest(arrays), a statement of fixed
    text whatever the batch's size (compiled and parsed once); SQLite: one executemany."""
    db.session.flush()  # rows this unit added through the ORM exist for the foreign keys
    connection = db.session.connection()
    table = LedgerTransaction.__table__
    now = utcnow()
    if is_postgres():
        found = connection.execute(
            _INSERT_TRANSACTIONS,
            {
                "keys": [p.key for p, _lines in fresh],
                "kinds": [p.kind for p, _lines in fresh],
                "currencies": [p.currency for p, _lines in fresh],
                "memos": [p.memo for p, _lines in fresh],
                "job_ids": [p.job_id for p, _lines in fresh],
                "member_ids": [p.member_id for p, _lines in fresh],
                "created_at": now,
            },
        )
    else:
        found = connection.execute(
            sqlite_insert(table)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key, table.c.id),
            [
                {
                    "key": p.key,
                    "kind": p.kind,
                    "currency": p.currency,
                    "memo": p.memo,
                    "job_id": p.job_id,
                    "member_id": p.member_id,
                    "reverses_id": None,
                    "created_at": now,
                }
                for p, _lines in fresh
            ],
        )
    ids = {key: transaction_id for key, transaction_id in found}
    if len(ids) < len(fresh):
        if ids:
            connection.execute(table.delete().where(table.c.id.in_(list(ids.values()))))
        return None
    return ids


_INSERT_TRANSACTIONS = text(
    "INSERT INTO ledger_transactions (key, kind, currency, memo, job_id, member_id, created_at) "
    "SELECT v.key, v.kind, v.currency, v.memo, v.job_id, v.member_id, :created_at "
    "FROM unnest(:keys, :kinds, :currencies, :memos, :job_ids, :member_ids) "
    "AS v (key, kind, currency, memo, job_id, member_id) "
    "ON CONFLICT (key) DO NOTHING RETURNING key, id"
).bindparams(
    bindparam("keys", type_=ARRAY(String())),
    bindparam("kinds", type_=ARRAY(String())),
    bindparam("currencies", type_=ARRAY(String())),
    bindparam("memos", type_=ARRAY(String())),
    bindparam("job_ids", type_=ARRAY(BigInteger())),
    bindparam("member_ids", type_=ARRAY(BigInteger())),
    bindparam("created_at", type_=LedgerTransaction.__table__.c.created_at.type),
)
_INSERT_ENTRIES = text(
    "INSERT INTO ledger_entries (transaction_id, account_id, amount) "
    "SELECT * FROM unnest(:transaction_ids, :account_ids, :amounts)"
).bindparams(
    bindparam("transaction_ids", type_=ARRAY(BigInteger())),
    bindparam("account_ids", type_=ARRAY(BigInteger())),
    bindparam("amounts", type_=ARRAY(BigInteger())),
)
_ADD_TO_BALANCES = text(
    "UPDATE ledger_accounts SET balance = ledger_accounts.balance + v.change "
    "FROM unnest(:account_ids, :changes) AS v (account_id, change) "
    "WHERE ledger_accounts.id = v.account_id"
).bindparams(
    bindparam("account_ids", type_=ARRAY(BigInteger())),
    bindparam("changes", type_=ARRAY(BigInteger())),
)


def _insert_entries(fresh: list, ids: dict[str, int], accounts: dict) -> None:
    rows = [
        (ids[p.key], accounts[line.account].id, line.amount) for p, lines in fresh for line in lines
    ]
    connection = db.session.connection()
    if is_postgres():
        transaction_ids, account_ids, amounts = (list(column) for column in zip(*rows, strict=True))
        connection.execute(
            _INSERT_ENTRIES,
            {"transaction_ids": transaction_ids, "account_ids": account_ids, "amounts": amounts},
        )
    else:
        connection.execute(
            insert(LedgerEntry.__table__),
            [{"transaction_id": t, "account_id": a, "amount": m} for t, a, m in rows],
        )


def _add_to_balances(totals: dict[str, int], accounts: dict) -> None:
    """The batch's summed changes: own rows updated in id order, hot accounts on one shard."""
    connection = db.session.connection()
    own = sorted(
        (accounts[code].id, change)
        for code, change in totals.items()
        if change and not accounts[code].split
    )
    split = sorted(
        (accounts[code].id, change)
        for code, change in totals.items()
        if change and accounts[code].split
    )
    if own and is_postgres():
        connection.execute(
            _ADD_TO_BALANCES,
            {"account_ids": [a for a, _c in own], "changes": [c for _a, c in own]},
        )
    elif own:
        connection.execute(_ADD_TO_BALANCE, [{"account_id": a, "change": c} for a, c in own])
    if split:
        shards = LedgerBalanceShard.__table__
        shard = _shard()
        connection.execute(
            _upsert()(shards)
            .values([{"account_id": a, "shard": shard, "balance": c} for a, c in split])
            .on_conflict_do_update(
                index_elements=["account_id", "shard"],
                set_={"balance": shards.c.balance + text("excluded.balance")},
            )
        )


def reverse(transaction_id: int, *, key: str, memo: str = "") -> LedgerTransaction:
    """Undo a transaction by posting its negated lines; each can be reversed once (else 409)."""
    # Locked: two reversals of one transaction queue here even when none of its accounts is
    # locked by the posting (the hot accounts are not), and the second is refused with 409.
    original = db.session.scalar(
        select(LedgerTransaction)
        .where(LedgerTransaction.id == transaction_id)
        .with_for_update(key_share=True)
    )
    if original is None:
        raise NotFound(_("No such ledger transaction."))
    if original.reverses_id is not None:
        raise ReversalNotReversible(
            _("A reversal cannot itself be reversed; post a new transaction instead."),
            state="reversal",
        )
    return _post(
        key=key,
        kind="reversal",
        currency=original.currency,
        lines=[Line(entry.account.code, -entry.amount) for entry in original.entries],
        memo=memo or f"Reversal of transaction {original.id}",
        job_id=original.job_id,
        member_id=original.member_id,
        reverses_id=original.id,
    )


def _normalise(lines: Sequence[Line]) -> list[Line]:
    if isinstance(lines, (str, bytes)) or not isinstance(lines, Iterable):
        raise field_error("lines", _("must be a list of lines"))
    result = []
    for line in lines:
        if isinstance(line, tuple) and not isinstance(line, Line) and len(line) == 2:
            line = Line(*line)
        if not isinstance(line, Line):
            raise field_error("lines", _("each line is an account code and an amount"))
        amount = line.amount
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise field_error("lines", _("amounts are integers of minor units"))
        if amount == 0:
            raise field_error(
                "lines", _("zero amount on {line_account!r}", line_account=line.account)
            )
        if abs(amount) > MAX_LINE_AMOUNT:
            raise field_error(
                "lines", _("amount on {line_account!r} is out of range", line_account=line.account)
            )
        result.append(line)
    return result


def _validate(key, kind, currency, lines, memo, job_id, member_id) -> dict[str, tuple]:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise field_error(
            "key", _("must be 1 to {MAX_KEY_LENGTH} characters", MAX_KEY_LENGTH=MAX_KEY_LENGTH)
        )
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        raise field_error("kind", _("must be 1 to 40 of a-z, 0-9, _ . : - starting with a letter"))
    if currency not in CURRENCIES:
        raise field_error("currency", _("must be one of {value}", value=", ".join(CURRENCIES)))
    if not isinstance(memo, str) or len(memo) > 500:
        raise field_error("memo", _("must be a text of at most 500 characters"))
    if len(lines) < 2:
        raise field_error("lines", _("a transaction has at least two lines"))
    if len(lines) > MAX_LINES:
        raise field_error("lines", _("at most {MAX_LINES} lines", MAX_LINES=MAX_LINES))
    total = sum(line.amount for line in lines)
    if total != 0:
        raise field_error(
            "lines", _("not balanced: the amounts sum to {total}, not 0", total=total)
        )
    types = {line.account: account_type(line.account) for line in lines}
    if job_id is not None and db.session.get(Job, job_id) is None:
        raise field_error("job_id", _("no such job"))
    if member_id is not None and db.session.get(Member, member_id) is None:
        raise field_error("member_id", _("no such member"))
    return types


def _post(*, key, kind, currency, lines, memo, job_id, member_id, reverses_id):
    """One posting in two round trips on PostgreSQL: read (and lock) its accounts, then write
    the transaction, its entries and the balances in one statement (_write).

    Only the accounts whose balance is checked against a floor (a member's payable, payouts
    in transit, …) are locked, in code order, and only they and the per-customer accounts
    keep their balance on their own row. The platform's hot accounts (AccountType.split:
    revenue, fees, clearing — a line of nearly every posting) have no floor to check, so a
    posting never waits for another on them: their balance is the account row's plus the sum
    of SHARDS shard rows, and each unit of work adds to one shard of its own choosing. This is
    hot-account splitting as high-volume payment ledgers do it, chosen over balances derived
    from entries plus snapshots (pgledger's direction) because a read stays exact and costs
    SHARDS rows, with no watermark of in-flight transactions to get right, and over an
    in-memory ledger (TigerBeetle), which would be a second database to run.
    """
    types = _validate(key, kind, currency, lines, memo, job_id, member_id)

    def content() -> tuple:  # what a retry must match; needed only when the key was taken
        return (kind, currency, memo, job_id, member_id, reverses_id, _line_multiset(lines))

    row = {
        "key": key,
        "kind": kind,
        "currency": currency,
        "memo": memo,
        "job_id": job_id,
        "member_id": member_id,
        "reverses_id": reverses_id,
        "created_at": utcnow(),
    }
    if reverses_id is None and is_postgres():
        posted = _post_in_database(row, lines, types)
        if posted is not None:
            return posted if isinstance(posted, LedgerTransaction) else _by_key(key, content())
        # An account is new: created below, then the posting goes the general way.
    accounts = _lock_accounts(currency, types)
    deltas: dict[str, int] = defaultdict(int)
    for line in lines:
        deltas[line.account] += line.amount
    changes = {code: normal_sign(accounts[code].kind) * delta for code, delta in deltas.items()}
    short = [
        code
        for code in sorted(changes)
        if not accounts[code].allow_negative and accounts[code].balance + changes[code] < 0
    ]
    if short or reverses_id is not None:
        # Under the locks a concurrent twin touching the same accounts has committed: a retry
        # of a posting made meanwhile answers with it, not with a refusal.
        existing = _by_key(key, content())
        if existing is not None:
            return existing
        if reverses_id is not None:
            _refuse_second_reversal(reverses_id)
        if short:
            code = short[0]
            raise _insufficient(code, currency, accounts[code].balance, changes[code])
    entries = [(accounts[line.account].id, line.amount) for line in lines]
    kept = [(accounts[c].id, change) for c, change in sorted(changes.items()) if change]
    transaction_id = _write(row, entries, kept, types, accounts)
    if transaction_id is None:
        # The key was taken (a retry, or a twin that committed while we waited on its key).
        return _by_key(key, content())
    _note_balances(accounts, changes)
    return _attached(transaction_id, row)


# psycopg adapts list parameters in Python (a third of this call's client CPU when the lists
# were arrays), so the lists go as comma-separated text, split by the function (migration
# i23_ledger2 describes them); no account code holds a comma (ACCOUNT_TYPES). Sent by
# exec_driver_sql: the text is fixed, nothing to compile; errors are wrapped as any statement's.
_LEDGER_POST = (
    "SELECT transaction_id, outcome, account, balance FROM ledger_post("
    "%s, %s, %s, %s, %s, %s, %s, %s::smallint, %s, %s, %s, %s, %s)"
)


def _post_in_database(row: dict, lines: Sequence[Line], types: dict):
    """PostgreSQL: the posting in one round trip, by the function ledger_post (migrations
    i23_ledger, i23_ledger2) — the same steps as below (lock the accounts that keep their own
    balance in code order and check their floors, insert once per key, the hot accounts'
    shard, the entries): a LedgerTransaction; "exists" when the key was taken; None when an
    account does not exist yet. A floor it would break raises InsufficientBalance, unless the
    key was posted already (then "exists": a retry answers with the posting)."""
    deltas: dict[str, int] = {}
    for line in lines:
        deltas[line.account] = deltas.get(line.account, 0) + line.amount
    own = sorted(code for code in deltas if not types[code][0].split)
    codes = own + sorted(code for code in deltas if types[code][0].split)
    position = {code: n for n, code in enumerate(codes, 1)}
    changes = [normal_sign(types[code][0].kind) * deltas[code] for code in codes]
    session = db.session()
    session.flush()  # rows this unit added through the ORM exist for the foreign keys
    found = (
        session.connection()
        .exec_driver_sql(
            _LEDGER_POST,
            (
                row["key"],
                row["kind"],
                row["currency"],
                row["memo"],
                row["job_id"],
                row["member_id"],
                row["created_at"],
                _shard(session),
                ",".join(codes),
                len(own),
                ",".join(map(str, changes)),
                ",".join(str(position[line.account]) for line in lines),
                ",".join(str(line.amount) for line in lines),
            ),
        )
        .one()
    )
    if found.outcome == "missing":
        return None
    if found.outcome == "exists":
        return "exists"
    if found.outcome == "short":
        if _by_key_or_none(row["key"]) is not None:
            return "exists"
        code = found.account
        raise _insufficient(code, row["currency"], found.balance, changes[codes.index(code)])
    return _attached(found.transaction_id, row, session)


def _attached(transaction_id: int, row: dict, session=None) -> LedgerTransaction:
    """The posted transaction as an ORM object in the session, without reading it back.

    Its columns are set as loaded values (as a query would), not through the constructor's
    instrumented attributes, which would record them as changes only to be cleared again."""
    transaction = _NEW_TRANSACTION()
    values = instance_dict(transaction)
    values.update(row)
    values["id"] = transaction_id
    make_transient_to_detached(transaction)
    (session or db.session).add(transaction)
    return transaction


_NEW_TRANSACTION = manager_of_class(LedgerTransaction).new_instance


def _insufficient(code: str, currency: str, balance: int, change: int) -> InsufficientBalance:
    return InsufficientBalance(
        _(
            "{code} ({currency}) would go below zero: balance {account_balance}, change {value}.",
            code=code,
            currency=currency,
            account_balance=balance,
            value=change,
        ),
        state="insufficient_balance",
        account=code,
        balance=balance,
    )


def _by_key_or_none(key: str) -> int | None:
    return db.session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.key == key))


def _shard(session=None) -> int:
    """The unit of work's shard of the hot accounts (one per unit: its postings add up on
    one row instead of spreading locks over many)."""
    info = (session or db.session).info
    if _SHARD not in info:
        info[_SHARD] = random.randrange(SHARDS)
    return info[_SHARD]


def _write(row: dict, entries: list, kept: list, types: dict, accounts: dict) -> int | None:
    """Insert the transaction unless its key is taken, and with it the entries and the balance
    changes; the id, or None when the key was taken (then nothing is written)."""
    by_id = {accounts[code].id: types[code][0] for code in accounts}
    own = [(account_id, change) for account_id, change in kept if not by_id[account_id].split]
    split = [(account_id, change) for account_id, change in kept if by_id[account_id].split]
    shard = _shard()
    db.session.flush()  # rows this unit added through the ORM exist for the foreign keys
    connection = db.session.connection()
    if is_postgres():
        return connection.execute(
            _posting_statement(len(entries), len(own), len(split)),
            {
                **row,
                **{f"e{i}_a": a for i, (a, _) in enumerate(entries)},
                **{f"e{i}_m": m for i, (_, m) in enumerate(entries)},
                **{f"o{i}_a": a for i, (a, _) in enumerate(own)},
                **{f"o{i}_c": c for i, (_, c) in enumerate(own)},
                **{f"s{i}_a": a for i, (a, _) in enumerate(split)},
                **{f"s{i}_c": c for i, (_, c) in enumerate(split)},
                **({"shard": shard} if split else {}),
            },
        ).scalar()
    # SQLite (one writer at a time): the same steps, one statement each.
    transaction_id = connection.execute(
        sqlite_insert(LedgerTransaction.__table__)
        .values(row)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(LedgerTransaction.__table__.c.id)
    ).scalar()
    if transaction_id is None:
        return None
    connection.execute(
        insert(LedgerEntry.__table__),
        [{"transaction_id": transaction_id, "account_id": a, "amount": m} for a, m in entries],
    )
    if own:
        connection.execute(_ADD_TO_BALANCE, [{"account_id": a, "change": c} for a, c in own])
    if split:
        connection.execute(
            sqlite_insert(LedgerBalanceShard.__table__)
            .values([{"account_id": a, "shard": shard, "balance": c} for a, c in split])
            .on_conflict_do_update(
                index_elements=["account_id", "shard"],
                set_={"balance": LedgerBalanceShard.__table__.c.balance + text("excluded.balance")},
            )
        )
    return transaction_id


@functools.lru_cache(maxsize=256)
def _posting_statement(n_entries: int, n_own: int, n_split: int):
    """PostgreSQL: the whole write of a posting as one statement — data-modifying CTEs, each
    joined to the inserted transaction so that nothing is written when its key was taken."""
    entries = ", ".join(f"(:e{i}_a, :e{i}_m)" for i in range(n_entries))
    parts = [
        "WITH t AS (INSERT INTO ledger_transactions (key, kind, currency, memo, job_id, "
        "member_id, reverses_id, created_at) VALUES (:key, :kind, :currency, :memo, :job_id, "
        ":member_id, :reverses_id, :created_at) ON CONFLICT (key) DO NOTHING RETURNING id)",
        "e AS (INSERT INTO ledger_entries (transaction_id, account_id, amount) "
        f"SELECT t.id, v.a, v.m FROM t, (VALUES {entries}) AS v (a, m))",
    ]
    if n_own:
        own = ", ".join(f"(:o{i}_a, :o{i}_c)" for i in range(n_own))
        parts.append(
            "o AS (UPDATE ledger_accounts SET balance = ledger_accounts.balance + v.c "
            f"FROM t, (VALUES {own}) AS v (a, c) WHERE ledger_accounts.id = v.a)"
        )
    if n_split:
        split = ", ".join(f"(:s{i}_a, :s{i}_c)" for i in range(n_split))
        parts.append(
            "s AS (INSERT INTO ledger_balance_shards (account_id, shard, balance) "
            f"SELECT v.a, :shard, v.c FROM t, (VALUES {split}) AS v (a, c) ORDER BY v.a "
            "ON CONFLICT (account_id, shard) DO UPDATE "
            "SET balance = ledger_balance_shards.balance + excluded.balance)"
        )
    sql = ",\n".join(parts) + "\nSELECT id FROM t"
    types = {f"e{i}_a": BigInteger() for i in range(n_entries)}
    types |= {f"e{i}_m": BigInteger() for i in range(n_entries)}
    types |= {f"o{i}_{x}": BigInteger() for i in range(n_own) for x in "ac"}
    types |= {f"s{i}_{x}": BigInteger() for i in range(n_split) for x in "ac"}
    binds = [bindparam(name, type_=kind) for name, kind in types.items()]
    binds += [
        bindparam("job_id", type_=BigInteger()),
        bindparam("member_id", type_=BigInteger()),
        bindparam("reverses_id", type_=BigInteger()),
        bindparam("created_at", type_=LedgerTransaction.__table__.c.created_at.type),
    ]
    if n_split:
        binds.append(bindparam("shard", type_=Integer()))
    return text(sql).bindparams(*binds)


def _note_balances(accounts: dict, changes: dict[str, int]) -> None:
    """Keep the session's copies of the accounts whose own row moved in step (the write went
    past the ORM)."""
    identity_map = db.session.identity_map
    for code, change in changes.items():
        account = accounts[code]
        if not change or account.split:
            continue
        loaded = identity_map.get(identity_key(LedgerAccount, account.id))
        if loaded is not None:
            set_committed_value(loaded, "balance", account.balance + change)


def _line_multiset(lines: Iterable[Line]) -> tuple:
    return tuple(sorted(Counter((line.account, line.amount) for line in lines).items()))


def _by_key(key: str, content: tuple) -> LedgerTransaction | None:
    """The transaction already posted under `key` if its content matches; 409 if it does not."""
    transaction = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.key == key))
    if transaction is None:
        return None
    posted = (
        transaction.kind,
        transaction.currency,
        transaction.memo,
        transaction.job_id,
        transaction.member_id,
        transaction.reverses_id,
        _line_multiset(Line(entry.account.code, entry.amount) for entry in transaction.entries),
    )
    if posted != content:
        raise LedgerKeyUsed(
            _(
                "The key {key!r} was already used for a different transaction ({transaction_id}).",
                key=key,
                transaction_id=transaction.id,
            ),
            state="key_used",
            transaction_id=transaction.id,
        )
    return transaction


def _refuse_second_reversal(transaction_id: int) -> None:
    reversal_id = db.session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == transaction_id)
    )
    if reversal_id is not None:
        raise AlreadyReversed(
            _(
                "Transaction {transaction_id} was already reversed by {reversal_id}.",
                transaction_id=transaction_id,
                reversal_id=reversal_id,
            ),
            state="reversed",
            transaction_id=reversal_id,
        )


@dataclass(frozen=True)
class _Account:
    id: int
    code: str
    kind: str
    balance: int
    allow_negative: bool
    split: bool


def _lock_accounts(currency: str, types: dict[str, tuple[AccountType, int | None]]) -> dict:
    """The accounts of a posting, created if new; those that keep their balance on their own
    row are locked in sorted code order, the split ones only read — in one statement.

    Missing accounts are inserted (ON CONFLICT DO NOTHING, sorted) before any row is locked.
    Every transaction takes its row locks in the same global order, so two postings can wait
    for each other but never deadlock.
    """
    codes = sorted(types)
    locked = [code for code in codes if not types[code][0].split]
    free = [code for code in codes if types[code][0].split]
    rows = _read_accounts(currency, locked, free)
    missing = [code for code in codes if code not in rows]
    if missing:
        _create_accounts(currency, missing, types)
        rows = _read_accounts(currency, locked, free)
    return {
        code: _Account(
            row.id, code, row.kind, row.balance, row.allow_negative, types[code][0].split
        )
        for code, row in rows.items()
    }


def _read_accounts(currency: str, locked: list[str], free: list[str]) -> dict:
    statement = _accounts_statement(bool(locked), bool(free), is_postgres())
    rows = db.session.connection().execute(
        statement, {"currency": currency, "locked": locked, "free": free}
    )
    return {row.code: row for row in rows}


@functools.lru_cache(maxsize=8)
def _accounts_statement(locked: bool, free: bool, postgres: bool):
    """The accounts' SELECT, built once per shape (building it cost more than running it);
    on PostgreSQL the codes are array parameters (a batch's thousand codes parse once)."""
    table = LedgerAccount.__table__
    columns = (table.c.id, table.c.code, table.c.kind, table.c.balance, table.c.allow_negative)
    mine = table.c.currency == bindparam("currency")

    def among(name: str):
        if postgres:
            return table.c.code == any_(bindparam(name, type_=ARRAY(String())))
        return table.c.code.in_(bindparam(name, expanding=True))

    held = (
        select(*columns)
        .where(mine, among("locked"))
        .order_by(table.c.code)
        .with_for_update(key_share=True)
    )
    rest = select(*columns).where(mine, among("free"))
    if locked and free:
        # PostgreSQL locks in a CTE and reads the rest in the same round trip.
        held = held.cte("held")
        return select(*held.c).union_all(rest)
    return held if locked else rest


def _create_accounts(currency: str, codes: list[str], types: dict) -> None:
    member_ids = {types[c][1] for c in codes if types[c][0].owner == "member"}
    if member_ids:
        found = set(db.session.scalars(select(Member.id).where(Member.id.in_(member_ids))))
        if member_ids - found:
            raise field_error(
                "lines", _("no member {value} for its account", value=min(member_ids - found))
            )
    organisation_ids = {types[c][1] for c in codes if types[c][0].owner == "organisation"}
    if organisation_ids:
        found = set(
            db.session.scalars(select(Organisation.id).where(Organisation.id.in_(organisation_ids)))
        )
        if organisation_ids - found:
            raise field_error(
                "lines",
                _("no company {value} for its account", value=min(organisation_ids - found)),
            )
    if is_postgres():
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    now = utcnow()
    rows = []
    for code in codes:  # sorted: concurrent creators wait on each other in the same order
        spec, owner_id = types[code]
        rows.append(
            {
                "code": code,
                "currency": currency,
                "kind": spec.kind,
                "member_id": owner_id if spec.owner == "member" else None,
                "balance": 0,
                "allow_negative": spec.allow_negative,
                "created_at": now,
            }
        )
    statement = upsert(LedgerAccount).values(rows)
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["code", "currency"]))


_ADD_TO_BALANCE = (
    update(LedgerAccount.__table__)
    .where(LedgerAccount.__table__.c.id == bindparam("account_id"))
    .values(balance=LedgerAccount.__table__.c.balance + bindparam("change"))
)


# --- reading --------------------------------------------------------------------------------


def balance(account: str, currency: str) -> int:
    """The kept balance of an account in its normal direction; 0 for one never used."""
    kind, _id = account_type(account)
    if currency not in CURRENCIES:
        raise field_error("currency", _("must be one of {value}", value=", ".join(CURRENCIES)))
    found = db.session.execute(
        select(LedgerAccount.id, LedgerAccount.balance).where(
            LedgerAccount.code == account, LedgerAccount.currency == currency
        )
    ).first()
    if found is None:
        return 0
    if not kind.split:
        return found.balance
    return found.balance + _shard_totals([found.id]).get(found.id, 0)


def _shard_totals(account_ids: list[int]) -> dict[int, int]:
    """What the shard rows of these (hot) accounts add to their row's balance."""
    if not account_ids:
        return {}
    return {
        account_id: int(total)
        for account_id, total in db.session.execute(
            select(LedgerBalanceShard.account_id, func.sum(LedgerBalanceShard.balance))
            .where(one_of(LedgerBalanceShard.account_id, account_ids))
            .group_by(LedgerBalanceShard.account_id)
        )
    }


def whole_balances(accounts: Iterable[LedgerAccount]) -> dict[int, int]:
    """{account id: its balance} with the hot accounts' shards added to their row's."""
    accounts = list(accounts)
    split = [a.id for a in accounts if a.allow_negative and account_type(a.code)[0].split]
    totals = _shard_totals(split)
    return {account.id: account.balance + totals.get(account.id, 0) for account in accounts}


def member_balances(member_id: int) -> list[dict]:
    """A member's payable per currency (both currencies, 0 where nothing was ever posted)."""
    code = account_code_for_member(member_id)
    kept = dict(
        db.session.execute(
            select(LedgerAccount.currency, LedgerAccount.balance).where(LedgerAccount.code == code)
        ).all()
    )
    return [{"currency": c, "payable": kept.get(c, 0)} for c in CURRENCIES]


def list_accounts(*, prefix: str | None = None, currency: str | None = None, **page) -> dict:
    """Accounts by code (then currency), optionally those whose code starts with `prefix`."""
    query = select(LedgerAccount)
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(LedgerAccount.code.like(f"{escaped}%", escape="\\"))
    if currency:
        query = query.where(LedgerAccount.currency == currency)
    result = paginate(query, page, order=[LedgerAccount.code, LedgerAccount.currency])
    balances = whole_balances(result["items"])
    result["items"] = [
        {column.key: getattr(account, column.key) for column in LedgerAccount.__table__.columns}
        | {"balance": balances[account.id]}
        for account in result["items"]
    ]
    return result


def list_transactions(
    *,
    account: str | None = None,
    currency: str | None = None,
    job_id: int | None = None,
    member_id: int | None = None,
    kind: str | None = None,
    **page,
) -> dict:
    """Transactions with their entries, newest first, filtered by account, job, member, kind."""
    query = select(LedgerTransaction).options(
        selectinload(LedgerTransaction.entries).joinedload(LedgerEntry.account)
    )
    if account:
        touching = (
            select(LedgerEntry.transaction_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.code == account)
        )
        query = query.where(LedgerTransaction.id.in_(touching))
    for column, value in (
        (LedgerTransaction.currency, currency),
        (LedgerTransaction.job_id, job_id),
        (LedgerTransaction.member_id, member_id),
        (LedgerTransaction.kind, kind),
    ):
        if value is not None:
            query = query.where(column == value)
    return paginate(query, page, order=[LedgerTransaction.id], descending=True)


# --- the invariant --------------------------------------------------------------------------


def check_invariant() -> list[str]:
    """Every way the ledger could be unsound, in words; [] when it is sound.

    Per currency all entries sum to zero; every transaction is balanced with ≥ 2 entries on
    accounts of its currency; every account's kept balance equals its entries (in its normal
    direction); no never-negative account is below zero; kinds and rules follow ACCOUNT_TYPES.
    """
    problems = []
    totals = db.session.execute(
        select(LedgerTransaction.currency, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.currency)
    ).all()
    problems += [f"{cur}: entries sum to {total}, not 0" for cur, total in totals if total]
    unbalanced = db.session.execute(
        select(LedgerTransaction.key, func.sum(LedgerEntry.amount), func.count(LedgerEntry.id))
        .outerjoin(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id, LedgerTransaction.key)
        .having((func.coalesce(func.sum(LedgerEntry.amount), 0) != 0) | (func.count() < 2))
    ).all()
    problems += [f"transaction {k!r}: {n} entries summing to {s}" for k, s, n in unbalanced]
    mixed = db.session.execute(
        select(LedgerTransaction.key, LedgerAccount.code, LedgerAccount.currency)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.currency != LedgerTransaction.currency)
    ).all()
    problems += [f"transaction {k!r} touches {code} in {cur}" for k, code, cur in mixed]
    accounts = db.session.execute(
        select(LedgerAccount, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .outerjoin(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.id)
    ).all()
    shards = _shard_totals([account.id for account, _total in accounts])
    for account, entries_total in accounts:
        name = f"{account.code} ({account.currency})"
        kept = account.balance + shards.get(account.id, 0)
        expected = normal_sign(account.kind) * entries_total
        if kept != expected:
            problems.append(f"{name}: balance {kept}, entries say {expected}")
        if kept < 0 and not account.allow_negative:
            problems.append(f"{name}: negative balance {kept}")
        try:
            kind, _ = account_type(account.code)
        except DomainError:
            problems.append(f"{name}: code matches no account type")
            continue
        if (kind.kind, kind.allow_negative) != (account.kind, account.allow_negative):
            problems.append(f"{name}: kind or negative rule differs from its account type")
    return problems
