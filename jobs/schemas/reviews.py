"""API contract for double-blind reviews of a job's customer and member."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import within_documented_length
from crowd.core.pagination import page_of
from jobs.reviews import CUSTOMER_TAGS, MEMBER_TAGS

MAX_COMMENT = 2000


class ReviewCreateSchema(ma.Schema):
    """A rating of the other party of a finished job: the customer's member, or the customer."""

    stars = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    comment = ma.fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=MAX_COMMENT)
    )
    tags = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=len(MEMBER_TAGS) + len(CUSTOMER_TAGS)),
        metadata={
            "description": "About a member (written by the customer): "
            f"{', '.join(MEMBER_TAGS)}. About a customer (written by the member): "
            f"{', '.join(CUSTOMER_TAGS)}. Another side's tag is refused with 422."
        },
    )

    @ma.pre_load
    def strip_comment(self, data, **kwargs):
        comment = data.get("comment") if isinstance(data, dict) else None
        # Longer than documented as sent: left alone, so the maximum refuses it.
        if isinstance(comment, str) and within_documented_length(self.fields["comment"], comment):
            # A blank comment is no comment.
            data = {**data, "comment": comment.strip() or None}
        return data


class ReviewSchema(ma.Schema):
    """A review as a party or staff sees it."""

    id = ma.fields.Integer()
    job_id = ma.fields.Integer()
    author = ma.fields.String(
        metadata={"description": "customer (a review of the member) or member (of the customer)"}
    )
    stars = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()
    published = ma.fields.Function(lambda review: review.published_at is not None)
    published_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "null while the review is still blind"}
    )


class JobReviewsSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReviewSchema))
    blind_until = ma.fields.DateTime(
        allow_none=True,
        metadata={
            "description": "When the job's reviews publish even if only one side has reviewed"
        },
    )


class PublicReviewSchema(ma.Schema):
    """A published review of a member, as anyone signed in sees it."""

    id = ma.fields.Integer()
    stars = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    published_at = ma.fields.DateTime()
    customer_first_name = ma.fields.String(
        metadata={"description": "The reviewing customer's first name; nothing more about them"}
    )
    category = ma.fields.String(metadata={"description": "The job's device category"})


PublicReviewPageSchema = page_of(PublicReviewSchema)
