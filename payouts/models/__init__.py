"""Money tables: the ledger, commission plans, and what the payment provider knows."""

from payouts.models.ledger import *  # noqa: F403
from payouts.models.payments import *  # noqa: F403
from payouts.models.plans import *  # noqa: F403
