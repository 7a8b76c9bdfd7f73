"""HTTP for money: payout runs (admins), a member's own payouts, and monthly fee runs."""

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from payouts import billing, payout_run
from payouts.schemas.payouts import (
    MonthlyFeeQueryArgsSchema,
    MonthlyFeeRunQueuedSchema,
    MonthlyFeeRunSchema,
    MonthlyFeeSchema,
    MyPayoutSchema,
    PayoutQueryArgsSchema,
    PayoutRunDetailSchema,
    PayoutRunSchema,
)

blp = CrowdBlueprint(
    "payouts_payouts", __name__, url_prefix="/api/v1", description="Money: payouts and fees"
)

ADMIN = "admin"


@blp.route("/payouts/runs", methods=["POST"])
@blp.auth(ADMIN)
@blp.rate_limited("rate_limit_payments", shared="payments")
@blp.idempotent
@blp.response(202, PayoutRunSchema)
@blp.errors(409)
def start_payout_run():
    """Start a payout run now (it also runs weekly). It is carried out in the background:
    follow it with GET /payouts/runs/{id}. 409 while another requested run has not started."""
    return payout_run.request_run(actor=current_principal())


@blp.route("/payouts/runs", methods=["GET"])
@blp.auth(ADMIN)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(PayoutRunSchema))
def list_payout_runs(args):
    """Payout runs, newest first."""
    return payout_run.list_runs(**args)


@blp.route("/payouts/runs/<int:run_id>", methods=["GET"])
@blp.auth(ADMIN)
@blp.arguments(PayoutQueryArgsSchema, location="query")
@blp.response(200, PayoutRunDetailSchema)
@blp.errors(404)
def get_payout_run(args, run_id):
    """A payout run, how its payouts stand, and its payouts (a page; filter by status)."""
    return payout_run.get_run(run_id, **args)


@blp.route("/me/payouts", methods=["GET"])
@blp.auth("member")
@blp.arguments(PayoutQueryArgsSchema, location="query")
@blp.response(200, page_of(MyPayoutSchema))
@blp.errors(404)
def my_payouts(args):
    """Your payouts, newest first: paid, on their way, failed (the money is back in your
    balance) or held (with the reason)."""
    return payout_run.list_my_payouts(actor=current_principal(), **args)


@blp.route("/billing/monthly-fees/run", methods=["POST"])
@blp.auth(ADMIN)
@blp.rate_limited("rate_limit_payments", shared="payments")
@blp.idempotent
@blp.arguments(MonthlyFeeRunSchema)
@blp.response(202, MonthlyFeeRunQueuedSchema)
@blp.errors(422)
def run_monthly_fees(data):
    """Bill a month's fees of flat-fee members now (it also runs daily for the current month).
    Members billed already are not billed again; failed fees are tried again. The run starts
    after this reply: see GET /billing/monthly-fees?period=."""
    return billing.request_run(period=data["period"])


@blp.route("/billing/monthly-fees", methods=["GET"])
@blp.auth(ADMIN)
@blp.arguments(MonthlyFeeQueryArgsSchema, location="query")
@blp.response(200, page_of(MonthlyFeeSchema))
def list_monthly_fees(args):
    """Monthly fees, newest first; filter by period (YYYY-MM), status and member."""
    return billing.list_fees(**args)
