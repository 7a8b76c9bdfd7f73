"""HTTP for money: one blueprint per area."""

from payouts.routes.accounts import blp as accounts_blp
from payouts.routes.ledger import blp as ledger_blp
from payouts.routes.payments import blp as payments_blp
from payouts.routes.payouts import blp as payouts_blp
from payouts.routes.plans import blp as plans_blp
from payouts.routes.statements import blp as statements_blp
from payouts.routes.webhooks import blp as webhooks_blp

blueprints = (
    plans_blp,
    ledger_blp,
    accounts_blp,
    payments_blp,
    payouts_blp,
    statements_blp,
    webhooks_blp,
)
