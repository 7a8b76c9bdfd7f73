"""Money tables: the ledger, commission plans, and what the payment provider knows."""

from payouts.models.bank_payouts import *  # noqa: F403
from payouts.models.job_payments import *  # noqa: F403
from payouts.models.ledger import *  # noqa: F403
from payouts.models.payments import *  # noqa: F403
from payouts.models.payout_runs import *  # noqa: F403
from payouts.models.plans import *  # noqa: F403
