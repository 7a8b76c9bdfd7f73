"""HTTP for onboarding: skill tests — staff manage them, members sit them."""

from flask import Response

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from onboarding.schemas import skill_tests as schemas
from onboarding.skill_tests import attempts, catalogue, overrides

blp = CrowdBlueprint(
    "onboarding_skill_tests", __name__, url_prefix="/api/v1", description="Onboarding: skill tests"
)

MEMBER = "member"


# --- members --------------------------------------------------------------------------------


@blp.route("/me/skill-tests", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.OwnSkillTestsSchema)
@blp.errors(404)
def list_own_tests():
    """Each skill you claim: whether it has a test, its pass mark, time limit and questions
    per attempt, your attempts, best score, whether you passed, when you may retry, and the
    attempt you have open."""
    return {"items": attempts.list_own_tests(actor=current_principal())}


@blp.route("/me/skill-tests/<skill_slug>/attempts", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.response(201, schemas.AttemptSchema)
@blp.errors(404, 409)
def start_attempt(skill_slug):
    """Start a test for a skill you claim: questions drawn at random, without answers.

    Submit before `expires_at`. 404: you do not claim the skill or it has no test. 409 with
    `state`: `passed` (nothing to retake), `started` (an attempt is open: `attempt_id` names
    it, GET it to see its questions again — a double tap never opens two), `retry_later`
    (after a failed attempt, not before `retry_after`).
    """
    return attempts.start_attempt(actor=current_principal(), skill_slug=skill_slug)


@blp.route("/me/skill-test-attempts", methods=["GET"])
@blp.auth(MEMBER)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(schemas.AttemptSummarySchema))
@blp.errors(404)
def list_own_attempts(args):
    """Your test attempts, newest first."""
    return attempts.list_own_attempts(actor=current_principal(), **args)


@blp.route("/me/skill-test-attempts/<int:attempt_id>", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.AttemptSchema)
@blp.errors(404)
def get_own_attempt(attempt_id):
    """One of your attempts with its questions (never their answers) and, once submitted,
    which of your answers were right."""
    return attempts.get_own_attempt(actor=current_principal(), attempt_id=attempt_id)


@blp.route("/me/skill-test-attempts/<int:attempt_id>/submit", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(schemas.AttemptSubmitSchema)
@blp.response(200, schemas.AttemptSchema)
@blp.errors(404, 409)
def submit_attempt(data, attempt_id):
    """Submit your answers; the server scores them.

    A question counts as right when exactly its correct options are chosen; the score is
    floor(right × 100 / asked) and passes at the attempt's pass mark. After a failure,
    `retry_after` says when you may start again. 409 `state`: `submitted` (twice), `expired`
    (too late). 422: an answer names a question not asked in this attempt, twice, or an
    option the question does not have.
    """
    return attempts.submit_attempt(actor=current_principal(), attempt_id=attempt_id, **data)


# --- staff ----------------------------------------------------------------------------------


@blp.route("/skill-tests", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.SkillTestCreateSchema)
@blp.response(201, schemas.SkillTestSchema)
@blp.errors(409)
def create_test(data):
    """Create the test of a skill with its questions (a second test for a skill: 409)."""
    return catalogue.create_test(actor=current_principal(), **data)


@blp.route("/skill-tests", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.SkillTestQueryArgsSchema, location="query")
@blp.response(200, page_of(schemas.SkillTestSummarySchema))
def list_tests(args):
    """Skill tests by category, skill or whether active, in id order."""
    return catalogue.list_tests(actor=current_principal(), **args)


@blp.route("/skill-tests/<int:test_id>", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.SkillTestSchema)
@blp.errors(404)
def get_test(test_id):
    """A test with every question, inactive ones too, and the correct answers."""
    return catalogue.get_test(actor=current_principal(), test_id=test_id)


@blp.route("/skill-tests/<int:test_id>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(schemas.SkillTestUpdateSchema)
@blp.response(200, schemas.SkillTestSchema)
@blp.errors(404)
def update_test(data, test_id):
    """Change pass mark, retry delay, questions per attempt or time limit, or switch the test
    off (`active: false`: the skill then needs no test). Open attempts keep their pass mark."""
    return catalogue.update_test(actor=current_principal(), test_id=test_id, **data)


@blp.route("/skill-tests/<int:test_id>/questions", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.QuestionCreateSchema)
@blp.response(201, schemas.QuestionSchema)
@blp.errors(404)
def add_question(data, test_id):
    """Add a question to a test."""
    return catalogue.add_question(actor=current_principal(), test_id=test_id, **data)


@blp.route("/skill-tests/<int:test_id>/questions/<int:question_id>", methods=["DELETE"])
@blp.auth(*STAFF)
@blp.response(204)
@blp.errors(404)
def deactivate_question(test_id, question_id):
    """Stop asking a question; attempts that asked it keep it and their score."""
    catalogue.deactivate_question(
        actor=current_principal(), test_id=test_id, question_id=question_id
    )
    return Response(status=204)


@blp.route("/members/<int:member_id>/skill-tests/<skill_slug>/reset-retry-delay", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.OwnSkillTestSchema)
@blp.errors(404)
def reset_retry_delay(member_id, skill_slug):
    """Let a member who failed a skill test try again now, without waiting out the delay.

    The failed attempt keeps its score; only its `retry_after` becomes now. With nothing to
    reset (passed, an attempt open, no wait left) nothing changes. Answers the member's
    standing in the skill's test. Recorded in the audit log. 404: the member does not claim
    the skill, or it has no test. To let an applicant through without any test, verify the
    skill instead (POST /members/{member_id}/skills/{slug}/verify): a verified skill satisfies
    the onboarding step `skill_tests`.
    """
    return overrides.reset_retry_delay(
        actor=current_principal(), member_id=member_id, skill_slug=skill_slug
    )
