"""HTTP for the help centre: categories, articles and their versions, reading and search,
feedback, and links to onboarding steps and training modules.

`{ref}` in an article's path is its id or its slug (slugs always hold a letter).
"""

from flask import Response

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from helpcentre import authoring, categories, feedback, links, reading, search
from helpcentre import schemas as s

blp = CrowdBlueprint(
    "helpcentre",
    __name__,
    url_prefix="/api/v1",
    description="Help centre: articles by community managers, search, feedback, links",
)

READERS = ("member", "customer")


# --- categories -------------------------------------------------------------------------------


@blp.route("/help/categories", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(s.HelpCategoryCreateSchema)
@blp.response(201, s.HelpCategorySchema)
def create_category(data):
    """Add a help centre category; a slug in use is a 409 (state `slug_taken`)."""
    return categories.create_category(actor=current_principal(), **data)


@blp.route("/help/categories/<int:category_id>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(s.HelpCategoryUpdateSchema)
@blp.response(200, s.HelpCategorySchema)
@blp.errors(404, 409)
def update_category(data, category_id):
    """Rename, re-slug or move a category."""
    return categories.update_category(actor=current_principal(), category_id=category_id, **data)


@blp.route("/help/categories", methods=["GET"])
@blp.auth()
@blp.response(200, s.HelpCategoryListSchema)
def list_categories():
    """Every category, by position then name."""
    return categories.list_categories(actor=current_principal())


# --- articles: writing (staff) ----------------------------------------------------------------


@blp.route("/help/articles", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(s.HelpArticleCreateSchema)
@blp.response(201, s.HelpArticleSchema)
def create_article(data):
    """Write an article: a draft with version 1, for an audience (members — applicants
    included —, customers or everyone), optionally targeting skills and a level range.

    An unknown category or skill is a 422 naming `category_id` or `skill_ids`; a minimum
    level above the maximum names `min_level_rank`; a slug in use is a 409."""
    return authoring.create_article(actor=current_principal(), **data)


@blp.route("/help/articles/<string:ref>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(s.HelpArticleUpdateSchema)
@blp.response(200, s.HelpArticleSchema)
@blp.errors(404, 409)
def update_article(data, ref):
    """Change an article's slug, category, audience, skills or levels (`skill_ids` replaces
    the set). Its text changes by a new version."""
    return authoring.update_article(actor=current_principal(), ref=ref, **data)


@blp.route("/help/articles/<string:ref>/versions", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(s.HelpVersionCreateSchema)
@blp.response(201, s.HelpVersionSchema)
@blp.errors(404)
def add_version(data, ref):
    """Write the article's next version. Versions are never edited; readers keep the
    published one until you publish this."""
    return authoring.add_version(actor=current_principal(), ref=ref, **data)


@blp.route("/help/articles/<string:ref>/versions", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, s.HelpVersionPageSchema)
@blp.errors(404)
def list_versions(args, ref):
    """The article's versions with their texts, newest first; `current` marks the published."""
    return authoring.list_versions(actor=current_principal(), ref=ref, **args)


@blp.route("/help/articles/<string:ref>/publish", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(s.HelpPublishSchema)
@blp.response(200, s.HelpArticleSchema)
@blp.errors(404)
def publish_article(data, ref):
    """Publish a version (default: the latest; an older one rolls back): the article is
    published and readers see that text. A version of another article is a 422 naming
    `version_id`. Publishing an archived article restores it."""
    return authoring.publish(actor=current_principal(), ref=ref, **data)


@blp.route("/help/articles/<string:ref>/archive", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, s.HelpArticleSchema)
@blp.errors(404, 409)
def archive_article(ref):
    """Withdraw an article from readers (archived already: 409 with state `archived`)."""
    return authoring.archive(actor=current_principal(), ref=ref)


# --- articles: reading ------------------------------------------------------------------------


@blp.route("/help/articles", methods=["GET"])
@blp.auth()
@blp.arguments(s.HelpArticleQueryArgsSchema, location="query")
@blp.response(200, s.HelpArticlePageSchema)
@blp.errors(404, 422)
def list_articles(args):
    """Articles you may read, newest published first: members and applicants read those for
    members or everyone, customers those for customers or everyone. Filter by `category_id`,
    `skill_id`, or (members) `for_me`: the articles targeting one of your skills and your
    level, or not targeted. Staff see every article, newest first, and filter by `status` and
    `audience` too."""
    return reading.list_articles(actor=current_principal(), **args)


@blp.route("/help/articles/<string:ref>", methods=["GET"])
@blp.auth()
@blp.response(200, s.HelpArticleSchema)
@blp.errors(404)
def get_article(ref):
    """One article by id or slug: the published version's title, summary and body, its
    number, the helpful counts and your own answer. Drafts, archived articles and those for
    another audience are a 404. Staff see any article (its latest version while it has no
    published one) with its links."""
    return reading.get_article(actor=current_principal(), ref=ref)


@blp.route("/help/search", methods=["GET"])
@blp.auth()
@blp.arguments(s.HelpSearchArgsSchema, location="query")
@blp.response(200, s.HelpSearchPageSchema)
@blp.errors(422)
def search_articles(args):
    """Search the published articles you may read: every word of `q` (at least 2 characters,
    at most 8 words, case-insensitive) must occur in the title, summary or body. Title hits
    rank above summary hits above body hits, then the most recently published; each hit
    comes with a snippet of the body around the first word found."""
    return search.search(actor=current_principal(), **args)


# --- feedback ---------------------------------------------------------------------------------


@blp.route("/help/articles/<string:ref>/feedback", methods=["POST"])
@blp.auth(*READERS)
@blp.idempotent
@blp.arguments(s.HelpFeedbackCreateSchema)
@blp.response(200, s.HelpFeedbackResultSchema)
@blp.errors(404)
def give_feedback(data, ref):
    """Was this article helpful? One answer per reader and article: answering again replaces
    it (and the comment). Returns your answer with the article's counts."""
    return feedback.give_feedback(actor=current_principal(), ref=ref, **data)


@blp.route("/help/articles/<string:ref>/feedback", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(s.HelpFeedbackQueryArgsSchema, location="query")
@blp.response(200, s.HelpFeedbackPageSchema)
@blp.errors(404)
def list_feedback(args, ref):
    """The answers about an article with their comments, newest first."""
    return feedback.list_feedback(actor=current_principal(), ref=ref, **args)


# --- links (staff) ----------------------------------------------------------------------------


@blp.route("/help/articles/<string:ref>/links", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(s.HelpLinkCreateSchema)
@blp.response(201, s.HelpLinkSchema)
@blp.errors(404)
def add_link(data, ref):
    """Show the article with an onboarding step (`target_key`: a step name) or a training
    module (its code); an unknown target is a 422 naming `target_key`, the same link twice a
    409 (state `linked`). Readers see it there once it is published."""
    return links.add_link(actor=current_principal(), ref=ref, **data)


@blp.route("/help/articles/<string:ref>/links/<int:link_id>", methods=["DELETE"])
@blp.auth(*STAFF)
@blp.response(204)
@blp.errors(404)
def remove_link(ref, link_id):
    """Remove one of the article's links."""
    links.remove_link(actor=current_principal(), ref=ref, link_id=link_id)
    return Response(status=204)
