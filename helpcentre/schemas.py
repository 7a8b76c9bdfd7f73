"""API contract of the help centre: categories, articles and versions, reading and search,
feedback, and the links that show articles with onboarding steps and training modules."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from helpcentre.models import ARTICLE_AUDIENCES, ARTICLE_STATUSES, LINK_TARGETS

MAX_BODY = 50_000
MAX_SKILLS = 50
MAX_RANK = 99

CATEGORY_SLUG = Pattern(r"[a-z0-9][a-z0-9-]{0,59}", error="1-60 of a-z 0-9 -")
# Hyphenated words of a-z and 0-9 with at least one letter: an all-digit path segment is an id.
ARTICLE_SLUG = Pattern(
    r"(?=[a-z0-9-]*[a-z])[a-z0-9]+(?:-[a-z0-9]+)*",
    error="words of a-z 0-9 joined by single hyphens, with at least one letter",
)


def _id(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)


def _query_id(**kwargs) -> ma.fields.Integer:
    # Query strings carry text: strict integers are for JSON bodies only.
    return ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1), **kwargs)


def _rank(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(0, MAX_RANK),
        metadata={"description": description},
    )


def _position(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(0, 10_000), **kwargs)


def _not_empty(data: dict) -> None:
    if not data:
        raise ma.ValidationError(_("change at least one field"))


# --- categories -------------------------------------------------------------------------------


class HelpCategoryUpdateSchema(ma.Schema):
    """Rename, re-slug or move a category (lower `position` first)."""

    slug = ma.fields.String(validate=CATEGORY_SLUG, metadata={"example": "getting-started"})
    name = Trimmed(validate=validate.Length(min=1, max=120))
    position = _position()

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        _not_empty(data)


class HelpCategoryCreateSchema(ma.Schema):
    """A category of the help centre; its slug is unique."""

    slug = ma.fields.String(
        required=True, validate=CATEGORY_SLUG, metadata={"example": "getting-started"}
    )
    name = Trimmed(required=True, validate=validate.Length(min=1, max=120))
    position = _position(load_default=0)


class HelpCategorySchema(ma.Schema):
    id = ma.fields.Integer()
    slug = ma.fields.String()
    name = ma.fields.String()
    position = ma.fields.Integer()


class HelpCategoryListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(HelpCategorySchema))


# --- writing articles (staff) -----------------------------------------------------------------


class HelpVersionCreateSchema(ma.Schema):
    """A new text of an article; readers see it once it is published."""

    title = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    summary = Trimmed(allow_none=True, load_default=None, validate=validate.Length(max=500))
    body = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_BODY),
        metadata={"description": "Plain text or Markdown, as the app renders it"},
    )


class HelpArticleUpdateSchema(ma.Schema):
    """Change an article's metadata; its text changes by a new version."""

    slug = ma.fields.String(
        validate=[validate.Length(max=120), ARTICLE_SLUG],
        metadata={"example": "verify-your-identity"},
    )
    category_id = _id()
    audience = ma.fields.String(
        validate=validate.OneOf(ARTICLE_AUDIENCES),
        metadata={"description": "members (and applicants), customers or everyone"},
    )
    skill_ids = ma.fields.List(
        _id(),
        validate=validate.Length(max=MAX_SKILLS),
        metadata={"description": "Skills it targets; empty: every member"},
    )
    min_level_rank = _rank("Lowest level rank it targets (0: applicants); null: no lower bound")
    max_level_rank = _rank("Highest level rank it targets; null: no upper bound")

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        _not_empty(data)


class HelpArticleCreateSchema(HelpVersionCreateSchema):
    """A new article in draft with its first version."""

    slug = ma.fields.String(
        required=True,
        validate=[validate.Length(max=120), ARTICLE_SLUG],
        metadata={"example": "verify-your-identity"},
    )
    category_id = _id(required=True)
    audience = ma.fields.String(
        load_default="members",
        validate=validate.OneOf(ARTICLE_AUDIENCES),
        metadata={"description": "members (and applicants), customers or everyone"},
    )
    skill_ids = ma.fields.List(
        _id(),
        load_default=list,
        validate=validate.Length(max=MAX_SKILLS),
        metadata={"description": "Skills it targets; empty: every member"},
    )
    min_level_rank = _rank("Lowest level rank it targets (0: applicants); null: no lower bound")
    max_level_rank = _rank("Highest level rank it targets; null: no upper bound")


class HelpPublishSchema(ma.Schema):
    version_id = _id(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The version to publish (an older one rolls back); default: the latest"
        },
    )


class HelpVersionSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer()
    title = ma.fields.String()
    summary = ma.fields.String(allow_none=True)
    body = ma.fields.String()
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    published_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "When it was first published; null: never"}
    )
    current = ma.fields.Boolean(metadata={"description": "The version readers see now"})


HelpVersionPageSchema = page_of(HelpVersionSchema)


# --- links ------------------------------------------------------------------------------------


class HelpLinkCreateSchema(ma.Schema):
    """Show the article with an onboarding step or a training module."""

    target_kind = ma.fields.String(required=True, validate=validate.OneOf(LINK_TARGETS))
    target_key = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={
            "description": "onboarding_step: a step name of GET /me/onboarding (profile, "
            "identity …); training_module: a training module's code",
            "example": "identity",
        },
    )
    position = _position(
        load_default=0, metadata={"description": "Order among the target's articles"}
    )


class HelpLinkSchema(ma.Schema):
    id = ma.fields.Integer()
    article_id = ma.fields.Integer()
    target_kind = ma.fields.String()
    target_key = ma.fields.String()
    position = ma.fields.Integer()
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()


# --- reading ----------------------------------------------------------------------------------


class HelpArticleBriefSchema(ma.Schema):
    """A published article as onboarding steps and training modules show it."""

    id = ma.fields.Integer()
    slug = ma.fields.String()
    title = ma.fields.String()
    summary = ma.fields.String(allow_none=True)


class HelpOwnFeedbackSchema(ma.Schema):
    helpful = ma.fields.Boolean()
    comment = ma.fields.String(allow_none=True)
    updated_at = ma.fields.DateTime()


class HelpArticleItemSchema(HelpArticleBriefSchema):
    """An article in a list. Readers see its published text; staff its published text, or the
    latest version's while it has none, with the staff-only fields."""

    category_id = ma.fields.Integer()
    audience = ma.fields.String()
    skill_ids = ma.fields.List(ma.fields.Integer())
    min_level_rank = ma.fields.Integer(allow_none=True)
    max_level_rank = ma.fields.Integer(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "Number of the version shown"})
    published_at = ma.fields.DateTime(allow_none=True)
    helpful_count = ma.fields.Integer()
    not_helpful_count = ma.fields.Integer()
    # Staff only:
    status = ma.fields.String(metadata={"description": "Staff only: draft, published, archived"})
    published_version_id = ma.fields.Integer(allow_none=True, metadata={"description": "Staff"})
    latest_version = ma.fields.Integer(metadata={"description": "Staff only: newest number"})
    created_by_id = ma.fields.Integer(metadata={"description": "Staff only"})
    created_at = ma.fields.DateTime(metadata={"description": "Staff only"})
    updated_at = ma.fields.DateTime(metadata={"description": "Staff only"})


HelpArticlePageSchema = page_of(HelpArticleItemSchema)


class HelpArticleSchema(HelpArticleItemSchema):
    """One article with its text, your feedback and (staff) its links."""

    version_id = ma.fields.Integer()
    body = ma.fields.String()
    my_feedback = ma.fields.Nested(
        HelpOwnFeedbackSchema, allow_none=True, metadata={"description": "Your answer, if any"}
    )
    links = ma.fields.List(ma.fields.Nested(HelpLinkSchema), metadata={"description": "Staff only"})


class HelpArticleQueryArgsSchema(PageArgsSchema):
    """Readers: newest published first; staff: newest article first, any status."""

    category_id = _query_id()
    skill_id = _query_id(metadata={"description": "Articles targeting this skill"})
    for_me = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Members: only articles targeting one of your skills and your level "
            "(or not targeted at all)"
        },
    )
    status = ma.fields.String(
        validate=validate.OneOf(ARTICLE_STATUSES), metadata={"description": "Staff only"}
    )
    audience = ma.fields.String(
        validate=validate.OneOf(ARTICLE_AUDIENCES), metadata={"description": "Staff only"}
    )


# --- search -----------------------------------------------------------------------------------


class HelpSearchArgsSchema(PageArgsSchema):
    q = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "Words that must all occur (case-insensitive) in the title, summary "
            "or body; words shorter than 2 characters are ignored, at most 8 words",
            "example": "identity document",
        },
    )
    category_id = _query_id()


class HelpSearchHitSchema(HelpArticleBriefSchema):
    category_id = ma.fields.Integer()
    version = ma.fields.Integer()
    published_at = ma.fields.DateTime()
    score = ma.fields.Integer(
        metadata={"description": "Title hits weigh most, then summary hits, then body hits"}
    )
    snippet = ma.fields.String(
        metadata={"description": "Body text around the first hit (else its beginning)"}
    )


HelpSearchPageSchema = page_of(HelpSearchHitSchema)


# --- feedback ---------------------------------------------------------------------------------


class HelpFeedbackCreateSchema(ma.Schema):
    """Was this article helpful? Answering again replaces your answer."""

    helpful = ma.fields.Boolean(required=True)
    comment = Trimmed(allow_none=True, load_default=None, validate=validate.Length(max=1000))


class HelpFeedbackResultSchema(ma.Schema):
    article_id = ma.fields.Integer()
    helpful = ma.fields.Boolean()
    comment = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "The version you answered about"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    helpful_count = ma.fields.Integer()
    not_helpful_count = ma.fields.Integer()


class HelpFeedbackSchema(ma.Schema):
    user_id = ma.fields.Integer()
    role = ma.fields.String()
    helpful = ma.fields.Boolean()
    comment = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


HelpFeedbackPageSchema = page_of(HelpFeedbackSchema)


class HelpFeedbackQueryArgsSchema(PageArgsSchema):
    """Newest answers first."""

    helpful = ma.fields.Boolean()
    with_comment = ma.fields.Boolean(metadata={"description": "true: only answers with a comment"})
