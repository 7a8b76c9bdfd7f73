"""API contract of skill tests: staff manage tests and answers; members sit them blind.

Member-facing schemas (MemberQuestionSchema and everything nesting it) have no `correct`
field at all, so the answers cannot leak through them whatever the service returns.
"""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema

MIN_OPTIONS, MAX_OPTIONS = 2, 8
MAX_QUESTIONS = 200
MAX_ANSWERS = 200


def _setting(low: int, high: int, description: str, **kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        validate=validate.Range(low, high),
        metadata={"description": description},
        **kwargs,
    )


# --- staff: tests and their questions -------------------------------------------------------


class QuestionCreateSchema(ma.Schema):
    """A multiple-choice question: 2–8 options, one or more of them correct."""

    prompt = Trimmed(required=True, validate=validate.Length(min=1, max=2000))
    options = ma.fields.List(
        Trimmed(validate=validate.Length(min=1, max=500)),
        required=True,
        validate=validate.Length(MIN_OPTIONS, MAX_OPTIONS),
    )
    correct = ma.fields.List(
        ma.fields.Integer(strict=True, validate=validate.Range(min=0)),
        required=True,
        validate=validate.Length(min=1, max=MAX_OPTIONS),
        metadata={"description": "Indexes (from 0) of the right options; all must be chosen"},
    )

    @ma.validates_schema
    def correct_names_options(self, data, **kwargs):
        correct, options = data["correct"], data["options"]
        if len(set(correct)) != len(correct):
            raise ma.ValidationError(_("an option is listed more than once"), "correct")
        beyond = [index for index in correct if index >= len(options)]
        if beyond:
            raise ma.ValidationError(
                _(
                    "there are {options} options (0–{value}); no option {value2}",
                    options=len(options),
                    value=len(options) - 1,
                    value2=beyond[0],
                ),
                "correct",
            )


class QuestionSchema(ma.Schema):
    """A question as staff see it, with its correct options."""

    id = ma.fields.Integer()
    position = ma.fields.Integer()
    prompt = ma.fields.String()
    options = ma.fields.List(ma.fields.String())
    correct = ma.fields.List(ma.fields.Integer())
    active = ma.fields.Boolean(metadata={"description": "false: no longer asked"})


class SkillTestSettingsSchema(ma.Schema):
    pass_mark_percent = _setting(1, 100, "Score needed to pass, in percent")
    retry_delay_hours = _setting(0, 24 * 90, "Wait after a failed attempt before the next")
    questions_per_attempt = _setting(1, MAX_QUESTIONS, "Questions drawn at random per attempt")
    time_limit_minutes = _setting(1, 600, "Time to submit after starting")


class SkillTestCreateSchema(ma.Schema):
    """A skill's test; a skill has at most one."""

    skill = ma.fields.String(required=True, validate=validate.Length(min=1, max=60))
    pass_mark_percent = _setting(1, 100, "Score needed to pass, in percent", load_default=80)
    retry_delay_hours = _setting(
        0, 24 * 90, "Wait after a failed attempt before the next", load_default=24
    )
    questions_per_attempt = _setting(
        1, MAX_QUESTIONS, "Questions drawn at random per attempt", load_default=10
    )
    time_limit_minutes = _setting(1, 600, "Time to submit after starting", load_default=30)
    questions = ma.fields.List(
        ma.fields.Nested(QuestionCreateSchema),
        required=True,
        validate=validate.Length(1, MAX_QUESTIONS),
    )


class SkillTestUpdateSchema(SkillTestSettingsSchema):
    """Change settings, or switch the test off (active: false) and on."""

    active = ma.fields.Boolean()


class SkillTestSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    skill = ma.fields.String()
    skill_name = ma.fields.String()
    category = ma.fields.String()
    pass_mark_percent = ma.fields.Integer()
    retry_delay_hours = ma.fields.Integer()
    questions_per_attempt = ma.fields.Integer()
    time_limit_minutes = ma.fields.Integer()
    active = ma.fields.Boolean()
    active_questions = ma.fields.Integer(metadata={"description": "Questions still asked"})
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class SkillTestSchema(SkillTestSummarySchema):
    """A test with every question (inactive ones too) and the correct answers: staff only."""

    questions = ma.fields.List(ma.fields.Nested(QuestionSchema))


class SkillTestQueryArgsSchema(PageArgsSchema):
    category = ma.fields.String(validate=validate.Length(min=1, max=60))
    skill = ma.fields.String(validate=validate.Length(min=1, max=60))
    active = ma.fields.Boolean()


# --- members: sitting tests -----------------------------------------------------------------


class MemberQuestionSchema(ma.Schema):
    """A question as the member sees it: never its correct options."""

    id = ma.fields.Integer()
    prompt = ma.fields.String()
    options = ma.fields.List(ma.fields.String(), metadata={"description": "Answer by index"})


class OpenAttemptSchema(ma.Schema):
    id = ma.fields.Integer()
    expires_at = ma.fields.DateTime()


class OwnSkillTestSchema(ma.Schema):
    """A skill you claim, its test (if it has one) and how you have done."""

    skill = ma.fields.String()
    name = ma.fields.String()
    category = ma.fields.String()
    test_available = ma.fields.Boolean(metadata={"description": "false: the skill needs no test"})
    pass_mark_percent = ma.fields.Integer(allow_none=True)
    questions_per_attempt = ma.fields.Integer(allow_none=True)
    time_limit_minutes = ma.fields.Integer(allow_none=True)
    retry_delay_hours = ma.fields.Integer(allow_none=True)
    attempts = ma.fields.Integer()
    best_score = ma.fields.Integer(allow_none=True)
    passed = ma.fields.Boolean()
    verified = ma.fields.Boolean(
        metadata={
            "description": "A community manager verified the skill: onboarding needs no passed "
            "test for it"
        }
    )
    retry_after = ma.fields.DateTime(
        allow_none=True, metadata={"description": "No new attempt before this (after a failure)"}
    )
    open_attempt = ma.fields.Nested(OpenAttemptSchema, allow_none=True)


class OwnSkillTestsSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OwnSkillTestSchema))


class QuestionResultSchema(ma.Schema):
    question_id = ma.fields.Integer()
    right = ma.fields.Boolean()


class AttemptSummarySchema(ma.Schema):
    """An attempt without its questions."""

    id = ma.fields.Integer()
    skill = ma.fields.String()
    status = ma.fields.String(metadata={"description": "started, submitted or expired"})
    started_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    submitted_at = ma.fields.DateTime(allow_none=True)
    pass_mark_percent = ma.fields.Integer()
    score_percent = ma.fields.Integer(allow_none=True)
    passed = ma.fields.Boolean(allow_none=True)
    retry_after = ma.fields.DateTime(allow_none=True)


class AttemptSchema(AttemptSummarySchema):
    """An attempt with the questions served, in order; once submitted, right or wrong each."""

    questions = ma.fields.List(ma.fields.Nested(MemberQuestionSchema))
    results = ma.fields.List(
        ma.fields.Nested(QuestionResultSchema),
        allow_none=True,
        metadata={"description": "After submission: which answers were right (not the answers)"},
    )


class AnswerSchema(ma.Schema):
    question_id = ma.fields.Integer(required=True, strict=True)
    options = ma.fields.List(
        ma.fields.Integer(strict=True, validate=validate.Range(min=0)),
        required=True,
        validate=validate.Length(max=MAX_OPTIONS),
        metadata={"description": "Indexes of the options chosen; [] leaves it unanswered"},
    )


class AttemptSubmitSchema(ma.Schema):
    """Your answers; questions left out count as wrong."""

    answers = ma.fields.List(
        ma.fields.Nested(AnswerSchema), required=True, validate=validate.Length(max=MAX_ANSWERS)
    )
