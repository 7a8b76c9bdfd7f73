"""Onboarding tables: applications and their checks, skill tests, levels and training."""

from onboarding.models.applications import *  # noqa: F403
from onboarding.models.levels import *  # noqa: F403
from onboarding.models.self_billing import *  # noqa: F403
from onboarding.models.skill_tests import *  # noqa: F403
from onboarding.models.training import *  # noqa: F403
