"""Insight: the crowd's health in pictures — charts of the crowd-health, service, programme and
funnel figures, each with its numbers as a table, for a period, a region and a skill.

The figures come from the same service functions the API routes call, with the same query
schema (crowd_health's `HealthQueryArgsSchema`): GET /api/v1/crowd-health, /crowd-health/
service, /programmes/health and /recruitment/funnel give the same numbers for the same filters
(programmes and the funnel know the period and the country only). Each chart is its own SVG
response (`/console/insight/charts/<name>.svg?<filters>`) with a Content-Security-Policy that
allows nothing but the SVG's inline style; the page embeds it as an image, so the page's own
policy stays self-only.
"""

from __future__ import annotations

import json
from datetime import timedelta

import marshmallow as ma
from flask import Response, abort, request, url_for

from console import insight_cache
from console import insight_charts as charts
from console.csv_export import csv_response
from console.forms import problem as _problem
from console.forms import status as _status
from console.web import ConsoleBlueprint, render, signed_in
from crowd.core.db import utcnow
from crowd.core.errors import DomainError, Unprocessable
from crowd_health.schemas import CrowdHealthSchema, HealthQueryArgsSchema, ServiceFiguresSchema
from crowd_health.service import crowd_health
from crowd_health.service_figures import service_figures
from members.models import COUNTRIES
from members.service import list_catalogue
from mentoring.health import programme_health
from mentoring.schemas.health import ProgrammeHealthSchema
from recruitment import funnel as recruitment_funnel
from recruitment.schemas import FunnelSchema

blp = ConsoleBlueprint("console_insight", __name__, url_prefix="/console/insight")

DEFAULT_DAYS = 180
FILTERS = ("from", "to", "country", "postcode_prefix", "city", "skill_id", "category_id")
# Nothing but the SVG's own <style>: no script, no font, no image from anywhere.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _filters() -> tuple[dict, dict]:
    """(the filters as given in the query, loaded by the API's schema); 422 when refused.

    Without a period the dashboard shows the last DEFAULT_DAYS days (the API's default is 90:
    too short for the 90-day retention, whose cohort was approved at least 90 days ago); the
    period is then in the form and in every chart's and download's address, so each asks
    for the same days."""
    given = {k: request.args[k].strip() for k in FILTERS if (request.args.get(k) or "").strip()}
    if "from" not in given and "to" not in given:
        given["from"] = (utcnow().date() - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    return given, HealthQueryArgsSchema().load(given)


# The API's response schema of each source: what the page reads (and the cache keeps) is the
# JSON the API would answer.
SCHEMAS = {
    charts.HEALTH: CrowdHealthSchema,
    charts.SERVICE: ServiceFiguresSchema,
    charts.PROGRAMMES: ProgrammeHealthSchema,
    charts.FUNNEL: FunnelSchema,
}


def _figures(source: str, args: dict) -> dict:
    """The figures of one source as its API route answers them, from the same service
    function; kept a few minutes per filter set (console.insight_cache)."""
    actor = signed_in().principal
    period = {"start": args.get("from_"), "end": args.get("to")}

    def compute() -> str:
        if source == charts.FUNNEL:
            figures = recruitment_funnel.funnel(actor=actor, country=args.get("country"), **period)
        elif source == charts.PROGRAMMES:
            figures = programme_health(actor=actor, country=args.get("country"), **period)
        else:
            scope = {
                name: args.get(name)
                for name in ("country", "postcode_prefix", "city", "skill_id", "category_id")
            }
            service = crowd_health if source == charts.HEALTH else service_figures
            figures = service(actor=actor, **period, **scope)
        return json.dumps(SCHEMAS[source]().dump(figures))

    if not actor.is_staff:  # the services refuse; a cached answer must not bypass them
        return json.loads(compute())
    return insight_cache.cached(source, _source_args(source, args), compute)


def _source_args(source: str, args: dict) -> dict:
    """The filters a source knows (programmes and the funnel: the period and the country)."""
    if source in (charts.FUNNEL, charts.PROGRAMMES):
        return {k: v for k, v in args.items() if k in ("from_", "to", "country")}
    return args


def _all_charts(args: dict) -> list[charts.Chart]:
    figures = {}
    built = []
    for name, (source, _build) in charts.CHARTS.items():
        if source not in figures:
            figures[source] = _figures(source, args)
        built.append(charts.build(name, figures[source]))
    return built


@blp.page("/")
def index():
    """The dashboard: the filters, then every chart with its table."""
    given = {}
    try:
        given, args = _filters()
        found = _all_charts(args)
    except (ma.ValidationError, DomainError) as refused:
        return _page(given, [], error=_problem(refused), status=_status(refused))
    return _page(given, found)


def _page(given: dict, found: list, *, error: str | None = None, status: int = 200):
    return render(
        "insight/index.html",
        status=status,
        given=given,
        charts=found,
        error=error,
        countries=COUNTRIES,
        catalogue=list_catalogue(),
        shown=charts.shown,
        chart_url=lambda name: url_for(".chart", name=name, **given),
        csv_url=lambda endpoint: url_for(endpoint, **given),
    )


@blp.page("/charts/<name>.svg")
def chart(name):
    """One chart as an SVG image, for the filters in the query."""
    if name not in charts.CHARTS:
        abort(404)
    try:
        _given, args = _filters()
    except ma.ValidationError as refused:
        raise Unprocessable(_problem(refused)) from refused
    source, _build = charts.CHARTS[name]
    drawing = charts.svg(charts.build(name, _figures(source, args)))
    response = Response(drawing, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- CSV -------------------------------------------------------------------------------------


def _csv_args() -> dict:
    try:
        return _filters()[1]
    except ma.ValidationError as refused:
        raise Unprocessable(_problem(refused)) from refused


@blp.page("/health.csv")
def health_csv():
    """Every chart's table, one line per cell: chart, row, column, value (the API's value)."""
    found = _all_charts(_csv_args())
    records = (
        (chart.name, row.key, row.label, column.key, column.unit, row.values.get(column.key))
        for chart in found
        for row in chart.rows
        for column in chart.columns
    )
    return csv_response("health", ("chart", "row", "label", "column", "unit", "value"), records)


FUNNEL_COLUMNS = (
    "applied",
    "passed_skill_test",
    "approved",
    "first_job",
    "active_after_90_days",
)


@blp.page("/funnel.csv")
def funnel_csv():
    """The funnel per source and channel (and the total), as GET /api/v1/recruitment/funnel."""
    figures = _figures(charts.FUNNEL, _csv_args())

    def line(source, channel, counts):
        conversion = counts["conversion"]
        return (
            source,
            channel.get("channel_id"),
            channel.get("code"),
            channel.get("name"),
            *(counts[step] for step in FUNNEL_COLUMNS),
            *(conversion.get(step) for step in FUNNEL_COLUMNS[1:]),
        )

    def records():
        for source in figures["sources"]:
            yield line(source["source"], {}, source)
            for channel in source.get("channels") or ():
                yield line(source["source"], channel, channel)
        yield line("total", {}, figures["total"])

    header = (
        "source",
        "channel_id",
        "channel_code",
        "channel_name",
        *FUNNEL_COLUMNS,
        *(f"conversion_{step}" for step in FUNNEL_COLUMNS[1:]),
    )
    return csv_response("funnel", header, records())
