"""Named errors of onboarding: applications, checks, skill tests, training, levels, house rules."""

from __future__ import annotations

from crowd.core.errors import Conflict
from crowd.core.i18n import _l

# --- applications and their checks ---------------------------------------------------------


class ApplicationNotOpen(Conflict):
    """The application is no longer under way (approved, rejected …); `state` says which."""

    title, type_slug = _l("Application not open"), "application-not-open"


class CheckPending(Conflict):
    """A document of this kind is waiting for a check already; `check_id` names it."""

    title, type_slug = _l("Check pending"), "check-pending"


class CheckAlreadyDecided(Conflict):
    """The document was approved or rejected already; `state` says which."""

    title, type_slug = _l("Check already decided"), "check-already-decided"


class NothingToReapply(Conflict):
    """The latest application is not rejected: there is nothing to re-apply for."""

    title, type_slug = _l("Nothing to re-apply for"), "nothing-to-reapply"


class NotAnApplicant(Conflict):
    """The caller is a member already (or deactivated), not an applicant; `state` says which."""

    title, type_slug = _l("Not an applicant"), "not-an-applicant"


class ReapplyLater(Conflict):
    """A rejected applicant may apply again from `reapply_after`."""

    title, type_slug = _l("Re-apply later"), "reapply-later"


class IntroCallPassed(Conflict):
    """The intro call was passed already."""

    title, type_slug = _l("Intro call passed"), "intro-call-passed"


class NoIntroCallScheduled(Conflict):
    """No intro call is scheduled for the application; `state` is the last call's status."""

    title, type_slug = _l("No intro call scheduled"), "no-intro-call-scheduled"


class StepsIncomplete(Conflict):
    """Not every onboarding step is done; `missing` lists them."""

    title, type_slug = _l("Steps incomplete"), "steps-incomplete"


class HouseRulesOutdated(Conflict):
    """The version accepted is not the current house rules; read and accept the current one."""

    title, type_slug = _l("House rules outdated"), "house-rules-outdated"


class SelfBillingTextOutdated(Conflict):
    """The self-billing agreement's text decided on is not the current one; read the current
    one and decide again."""

    title, type_slug = _l("Self-billing agreement outdated"), "self-billing-text-outdated"


# --- skill tests ---------------------------------------------------------------------------


class SkillTestExists(Conflict):
    """The skill has a test already; change that one."""

    title, type_slug = _l("Skill test exists"), "skill-test-exists"


class SkillTestPassed(Conflict):
    """The member has passed this test already."""

    title, type_slug = _l("Skill test passed"), "skill-test-passed"


class AttemptUnderWay(Conflict):
    """An attempt is under way; submit it or let it run out. `attempt_id` names it."""

    title, type_slug = _l("Attempt under way"), "attempt-under-way"


class RetryLater(Conflict):
    """The test may be tried again from `retry_after`."""

    title, type_slug = _l("Retry later"), "skill-test-retry-later"


class AttemptSubmitted(Conflict):
    """The attempt was submitted already."""

    title, type_slug = _l("Attempt submitted"), "attempt-submitted"


class AttemptExpired(Conflict):
    """The time for the attempt ran out."""

    title, type_slug = _l("Attempt expired"), "attempt-expired"


# --- training and levels -------------------------------------------------------------------


class TrainingModuleExists(Conflict):
    """A training module with this code exists already."""

    title, type_slug = _l("Training module exists"), "training-module-exists"


class TrainingNotAllowed(Conflict):
    """The member's status does not allow recording training; `state` is that status."""

    title, type_slug = _l("Training not allowed"), "training-not-allowed"


class AttendedInPersonOnly(Conflict):
    """The module is attended in person; a community manager records it."""

    title, type_slug = _l("Attended in person only"), "attended-in-person-only"


class AlreadyRanked(Conflict):
    """The member has a level already."""

    title, type_slug = _l("Already ranked"), "already-ranked"


class NoLevelYet(Conflict):
    """The member has no level yet; approval gives the first one."""

    title, type_slug = _l("No level yet"), "no-level-yet"


class PlanNotOffered(Conflict):
    """The commission plan is not offered at the member's level."""

    title, type_slug = _l("Plan not offered"), "plan-not-offered"


class RuleSetNotDraft(Conflict):
    """Only a draft rule set can be changed or activated; `state` is the rule set's status."""

    title, type_slug = _l("Rule set not a draft"), "rule-set-not-draft"


class RuleSetSuperseded(Conflict):
    """Another rule set was activated meanwhile; reload."""

    title, type_slug = _l("Rule set superseded"), "rule-set-superseded"
