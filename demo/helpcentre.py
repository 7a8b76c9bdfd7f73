"""Demo help centre: a few categories and published articles, linked to onboarding steps and
training modules. Each row is written only where its slug (or link) is missing, so a second
run changes nothing; the whole of it is a handful of inserts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.extensions import db
from helpcentre.models import ArticleLink, ArticleVersion, HelpArticle, HelpCategory
from onboarding.models import TrainingModule
from onboarding.steps import STEP_NAMES

CATEGORIES = (
    ("getting-started", "Getting started", 1),
    ("on-site", "On site", 2),
    ("money", "Money and payouts", 3),
    ("for-customers", "For customers", 4),
)


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    category: str
    audience: str
    title: str
    summary: str
    body: str
    # (target_kind, target_key) it is shown with.
    links: tuple[tuple[str, str], ...] = ()
    min_level_rank: int | None = None
    age_days: int = 30


ARTICLES = (
    DemoArticle(
        "verify-your-identity",
        "getting-started",
        "members",
        "Verify your identity",
        "Which documents we accept and how the check works.",
        "Before your first job we check who you are. In the app, open Onboarding → Identity "
        "and enter the details of your ID card, passport or residence permit: the issuing "
        "authority, the country, the last four characters of the document number and the "
        "expiry date. We never store a copy of the document.\n\nA community manager compares "
        "the details with the document during your intro call, usually within two working "
        "days. If the document has expired or the details do not match, you will see why and "
        "can submit again.",
        links=(("onboarding_step", "identity"),),
        age_days=120,
    ),
    DemoArticle(
        "your-intro-call",
        "getting-started",
        "members",
        "Your intro call",
        "Twenty minutes with a community manager: what to prepare.",
        "The intro call is a short video call with a community manager. Keep your ID at hand, "
        "think about which jobs you want to do and when you are available. We explain how "
        "offers reach you, how ratings work and what our house rules ask of you. Questions "
        "are welcome — there are no trick questions.",
        links=(("onboarding_step", "intro_call"),),
        age_days=90,
    ),
    DemoArticle(
        "working-safely-with-mains",
        "on-site",
        "members",
        "Working safely with mains electricity",
        "Isolate, verify, secure: the three steps before you touch a device.",
        "Switch the device off and unplug it, or switch off the circuit breaker and secure it "
        "against being switched back on. Verify with a two-pole voltage tester that the device "
        "is dead. Fixed installations, fuse boxes and wallboxes are work for a registered "
        "electrician: if a job needs it, tell the customer and your community manager instead "
        "of improvising.",
        links=(("training_module", "mains-safety"),),
        age_days=60,
    ),
    DemoArticle(
        "when-you-get-paid",
        "money",
        "members",
        "When you get paid",
        "From a confirmed job to the money in your account.",
        "When the customer confirms a job, its price minus the commission of your plan is "
        "credited to your balance. Payout runs transfer your balance to the bank account you "
        "connected during onboarding; a job under dispute is held until it is resolved. Your "
        "monthly statement lists every job, fee and payout.",
        links=(("onboarding_step", "payout_account"), ("training_module", "mobile-app-workflow")),
        age_days=45,
    ),
    DemoArticle(
        "expert-jobs",
        "on-site",
        "members",
        "Taking on expert jobs",
        "What changes when your level opens demanding jobs to you.",
        "Some jobs name a minimum level: calibrating a home cinema, commissioning a smart-home "
        "system, repairing a panel. Plan more time than usual, explain each step to the "
        "customer and document your work with photos in the work report.",
        min_level_rank=3,
        age_days=20,
    ),
    DemoArticle(
        "booking-a-job",
        "for-customers",
        "customers",
        "Booking a job",
        "Describe the task, choose a time window, confirm when it is done.",
        "Describe what needs doing and which device it is, add photos if you can, and choose "
        "the time windows that suit you. Qualified members nearby get your request; the first "
        "to accept does the job. You pay only when you confirm the work is done.",
        age_days=100,
    ),
    DemoArticle(
        "what-is-the-crowd",
        "getting-started",
        "everyone",
        "What is the crowd?",
        "Professionals and tech-savvy people who install, repair and explain devices.",
        "The crowd is made of professionals and tech-savvy private people who work on the side. "
        "Every member is checked during onboarding, tested in the skills they offer and rated "
        "by customers after every job.",
        age_days=150,
    ),
)


def seed_help_centre(cm_id: int, now: datetime) -> int:
    """Write the demo categories, articles (published, version 1) and links that are missing;
    returns the number of articles written."""
    categories = dict(db.session.execute(select(HelpCategory.slug, HelpCategory.id)).all())
    for slug, name, position in CATEGORIES:
        if slug not in categories:
            category = HelpCategory(slug=slug, name=name, position=position)
            db.session.add(category)
            db.session.flush()
            categories[slug] = category.id
    known = set(db.session.scalars(select(HelpArticle.slug)))
    written = 0
    for demo in ARTICLES:
        if demo.slug not in known:
            _write_article(demo, categories[demo.category], cm_id, now - timedelta(demo.age_days))
            written += 1
    _write_links(cm_id, now)
    db.session.flush()
    return written


def _write_article(demo: DemoArticle, category_id: int, cm_id: int, published: datetime) -> None:
    article = HelpArticle(
        slug=demo.slug,
        category_id=category_id,
        status="published",
        audience=demo.audience,
        min_level_rank=demo.min_level_rank,
        helpful_count=0,
        not_helpful_count=0,
        created_by_id=cm_id,
        created_at=published,
        updated_at=published,
    )
    db.session.add(article)
    db.session.flush()
    version = ArticleVersion(
        article_id=article.id,
        number=1,
        title=demo.title,
        summary=demo.summary,
        body=demo.body,
        created_by_id=cm_id,
        created_at=published,
        published_at=published,
    )
    db.session.add(version)
    db.session.flush()
    article.published_version_id = version.id
    article.published_at = published


def _write_links(cm_id: int, now: datetime) -> None:
    """Each article's links whose target exists and that are not there yet."""
    ids = dict(db.session.execute(select(HelpArticle.slug, HelpArticle.id)).all())
    existing = {
        tuple(row)
        for row in db.session.execute(
            select(ArticleLink.article_id, ArticleLink.target_kind, ArticleLink.target_key)
        )
    }
    modules = set(db.session.scalars(select(TrainingModule.code)))
    for demo in ARTICLES:
        for kind, key in demo.links:
            target_exists = key in STEP_NAMES if kind == "onboarding_step" else key in modules
            if target_exists and (ids[demo.slug], kind, key) not in existing:
                db.session.add(
                    ArticleLink(
                        article_id=ids[demo.slug],
                        target_kind=kind,
                        target_key=key,
                        position=0,
                        created_by_id=cm_id,
                        created_at=now,
                    )
                )
