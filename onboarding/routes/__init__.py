"""HTTP for onboarding: one blueprint per area, registered in this order."""

from onboarding.routes.applications import blp as applications_blp
from onboarding.routes.levels import blp as levels_blp
from onboarding.routes.progress import blp as progress_blp
from onboarding.routes.skill_tests import blp as skill_tests_blp
from onboarding.routes.training import blp as training_blp

blueprints = (applications_blp, skill_tests_blp, levels_blp, progress_blp, training_blp)
