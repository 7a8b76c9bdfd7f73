"""Row locks: the one lock order every request and task follows, and helpers that keep it.

A unit of work (a request, a task) that locks several rows takes them in this order, and
several rows of one table in ascending id (ledger accounts: in code order):

 1. a task's own outbox message (crowd.core.background.run_message);
 2. the row the action is about when it is no job: a support ticket, then its resolution; a
    payout run; a level rule set (a chunk of the daily evaluation holds it shared); a
    mentorship, event or broadcast;
 3. jobs;
 4. members — and with a member the rows only they own (their user account, level, standing,
    mentor profile);
 5. the job's offers, then its reviews;
 6. the job's payment, then its refunds;
 7. member stats (the counters in members.service);
 8. payouts;
 9. ledger accounts, sorted by code (payouts.ledger locks a posting's accounts at once;
    a reversal first locks the transaction it reverses; the platform's hot accounts are
    never locked: their balance is split over shard rows, payouts.ledger._post);
10. everything else is only inserted (job events, notifications, outbox messages, ledger
    transactions and entries).

A unit of work may skip steps, never go back to an earlier one: holding a member it does
not lock a job. Set-based statements follow the same rule: an UPDATE of many members locks
them first with `lock_rows(Member, ids)` (in id order), since an UPDATE takes its row locks in
whatever order the plan visits the rows. A row that is otherwise only ever locked on its own
(a commission plan an admin edits, a help-centre article, a community post) may be taken at
any step: whoever holds it alone waits for nothing, so it cannot close a cycle.

Known to bend the order, and left to the retry below because both are rare and short: a
decline locks the member's own stats and then the next wave's members' stats in id order;
a payout run locks every payable it pays and then, per member, that member's receivable.

Row locks are PostgreSQL's FOR NO KEY UPDATE (`with_for_update(key_share=True)`), the lock a
plain UPDATE takes: it excludes every other writer of the row, but not the FOR KEY SHARE
lock that inserting a row which refers to it takes for its foreign key. With plain FOR UPDATE
a ledger posting (which refers to the job and the member) waited for a review holding the
job while holding a key-share on the member the review wanted next: a deadlock outside any
order of explicit locks. An UPDATE that changes a column under a unique index (a payment's
provider ids or settlement, a payout's transfer) takes FOR UPDATE itself at that point and
waits for inserts referring to the row: only refunds refer to a payment, and they lock it
first, so none holds the key-share while waiting for it; nothing refers to a payout. No unit
of work deletes a row it locked. SQLite ignores all of this: a writer holds the whole database.

A deadlock or serialization failure that happens anyway is retried as a whole unit of work
(crowd.core.db.RetryOnContention for requests, crowd.core.background.retry_on_contention
for tasks).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from crowd.core.db import db

# For Session.get(…, with_for_update=ROW_LOCK): FOR NO KEY UPDATE, like the queries.
ROW_LOCK = {"key_share": True}


def lock_rows(model, ids: Iterable[int | None]) -> list[int]:
    """Lock the rows of `model` with these ids in ascending id order, in one statement (how a
    unit of work takes several rows of one table); returns the ids that exist, ascending."""

    wanted = sorted({row_id for row_id in ids if row_id is not None})
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(model.id)
            .where(model.id.in_(wanted))
            .order_by(model.id)
            .with_for_update(key_share=True)
        )
    )
