"""HTTP for money: reading the ledger (admins) and a member's own balance."""

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import page_of
from members.access import own_member
from payouts import ledger
from payouts.schemas.ledger import (
    AccountQueryArgsSchema,
    AccountSchema,
    MemberBalanceSchema,
    TransactionQueryArgsSchema,
    TransactionSchema,
)

blp = CrowdBlueprint("payouts_ledger", __name__, url_prefix="/api/v1", description="Money: ledger")


@blp.route("/ledger/accounts", methods=["GET"])
@blp.auth("admin")
@blp.arguments(AccountQueryArgsSchema, location="query")
@blp.response(200, page_of(AccountSchema))
def list_accounts(args):
    """Ledger accounts with their balances, by code; filter by code prefix and currency."""
    return ledger.list_accounts(**args)


@blp.route("/ledger/transactions", methods=["GET"])
@blp.auth("admin")
@blp.arguments(TransactionQueryArgsSchema, location="query")
@blp.response(200, page_of(TransactionSchema))
def list_transactions(args):
    """Ledger transactions with their entries, newest first; filter by account, job, member."""
    return ledger.list_transactions(**args)


@blp.route("/me/balance", methods=["GET"])
@blp.auth("member")
@blp.response(200, MemberBalanceSchema)
@blp.errors(404)
def my_balance():
    """What the platform owes you, per currency (earnings not yet paid out)."""
    member = own_member(current_principal())
    return {"member_id": member.id, "balances": ledger.member_balances(member.id)}
