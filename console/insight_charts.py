"""The insight dashboard's charts: each one a table read from the figures an API service returns
(no figure is computed here), drawn as SVG by pygal.

A chart is its table: rows (a key, a label) by columns (a key, a label, a unit); the page shows
the table beside the image, the SVG draws the `plotted` columns, and the CSV lists the same
cells. Cells keep the API's value (a rate stays 0.3333; the page shows 33.33 %), so what a CM
reads equals what the API says.

Readable without colour: every bar carries its value (and, with more than one series, the
series' name), series differ in dash pattern as well as colour, and no chart
depends on its legend alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pygal
from pygal.style import Style

from console.web import gettext as _

# Sources: which API service a chart reads (the view calls it with the page's filters).
HEALTH, SERVICE, PROGRAMMES, FUNNEL = "health", "service", "programmes", "funnel"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = "count"  # count, rate, minutes, hours, days, stars


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    values: dict


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    source: str
    columns: tuple[Column, ...]
    rows: list[Row]
    plotted: tuple[str, ...] = ()  # column keys drawn (default: all)
    note: str = ""
    horizontal: bool = False
    line: bool = False  # a line per drawn column over the rows (periods), else bars
    drawn: tuple[Column, ...] = field(init=False, default=())

    def __post_init__(self):
        keys = self.plotted or tuple(c.key for c in self.columns)
        object.__setattr__(self, "drawn", tuple(c for c in self.columns if c.key in keys))

    @property
    def empty(self) -> bool:
        return not any(
            row.values.get(c.key) not in (None, 0) for row in self.rows for c in self.drawn
        )


def shown(value, unit: str) -> str:
    """A cell as the page shows it: rates in per cent, no value as a dash."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{value * 100:.2f} %"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _plot_value(value, unit: str):
    if value is None:
        return None
    return round(value * 100, 2) if unit == "rate" else value


# --- the charts, from the services' figures ------------------------------------------------


def _region(country, area) -> str:
    return f"{country or '?'} {area}" if area else (country or _("no postcode"))


def active_regions(health: dict) -> Chart:
    rows = [
        Row(
            f"{r['country']}-{r['postcode_area'] or ''}",
            _region(r["country"], r["postcode_area"]),
            {"members": r["members"]},
        )
        for r in health["active_members"]["per_region"]
    ]
    return Chart(
        "active-regions",
        _("Active members per region"),
        HEALTH,
        (Column("members", _("Active members")),),
        rows,
        note=_("Members active now, by country and postcode area."),
        horizontal=True,
    )


def active_skills(health: dict) -> Chart:
    rows = [
        Row(str(s["skill_id"]), s["skill"], {"members": s["members"]})
        for s in health["active_members"]["per_skill"]
    ]
    return Chart(
        "active-skills",
        _("Active members per skill"),
        HEALTH,
        (Column("members", _("Active members")),),
        rows,
        note=_("The skills with the most active members."),
        horizontal=True,
    )


# Lines drawn at most per time chart (the table holds every region and skill).
LINES = 6


def _period_rows(over_time: dict, series: list[tuple[str, list[int]]]) -> list[Row]:
    """One row per period: its first day, and the count of each series at its end."""
    return [
        Row(
            str(period["first"]),
            str(period["first"]),
            {key: counts[n] for key, counts in series},
        )
        for n, period in enumerate(over_time["periods"])
    ]


def _top(columns: list[Column], series: list[tuple[str, list[int]]]) -> tuple[str, ...]:
    """The LINES columns with the most members at the end (the others: in the table only)."""
    last = {key: counts[-1] if counts else 0 for key, counts in series}
    ranked = sorted(columns, key=lambda c: -last[c.key])
    return tuple(c.key for c in ranked[:LINES]) or ("",)


def _per(over_time: dict) -> str:
    return _("week") if over_time["bucket"] == "week" else _("month")


def active_regions_time(health: dict) -> Chart:
    over_time = health["active_over_time"]
    series = [
        (
            f"{r['country']}-{r['postcode_area']}" if r["postcode_area"] else r["country"],
            _region(r["country"], r["postcode_area"]),
            r["members"],
        )
        for r in over_time["per_region"]
    ]
    columns = [Column(key, label) for key, label, _counts in series]
    counts = [(key, values) for key, _label, values in series]
    return Chart(
        "active-regions-time",
        _("Active members per region over time"),
        HEALTH,
        tuple(columns),
        _period_rows(over_time, counts),
        plotted=_top(columns, counts),
        note=_(
            "Members active at the end of each %(per)s (status history), by country; with a "
            "country filter by postcode area. Rows: each period's first day. Lines: the "
            "%(n)s largest."
        )
        % {"per": _per(over_time), "n": LINES},
        line=True,
    )


def active_skills_time(health: dict) -> Chart:
    over_time = health["active_over_time"]
    columns = [Column(str(s["skill_id"]), s["skill"]) for s in over_time["per_skill"]]
    counts = [(str(s["skill_id"]), s["members"]) for s in over_time["per_skill"]]
    return Chart(
        "active-skills-time",
        _("Active members per skill over time"),
        HEALTH,
        tuple(columns),
        _period_rows(over_time, counts),
        plotted=_top(columns, counts),
        note=_(
            "Members active at the end of each %(per)s, for the skills with the most active "
            "members now. Rows: each period's first day. Lines: the %(n)s largest."
        )
        % {"per": _per(over_time), "n": LINES},
        line=True,
    )


def working(health: dict) -> Chart:
    figures = health["active_members"]
    return Chart(
        "working",
        _("Active and working members"),
        HEALTH,
        (Column("members", _("Members")),),
        [
            Row("total", _("Active now"), {"members": figures["total"]}),
            Row(
                "working", _("With a confirmed job in the period"), {"members": figures["working"]}
            ),
        ],
    )


FUNNEL_STEPS = (
    ("applied", "Applied"),
    ("passed_skill_test", "Passed a skill test"),
    ("approved", "Approved"),
    ("first_job", "First confirmed job"),
    ("active_after_90_days", "Active after 90 days"),
)


def funnel(figures: dict) -> Chart:
    total = figures["total"]
    conversion = total["conversion"]
    rows = [
        Row(key, _(label), {"members": total[key], "conversion": conversion.get(key)})
        for key, label in FUNNEL_STEPS
    ]
    return Chart(
        "funnel",
        _("Activation funnel"),
        FUNNEL,
        (Column("members", _("Members")), Column("conversion", _("From the step before"), "rate")),
        rows,
        plotted=("members",),
        note=_("Members who first applied in the period (the funnel filters by country only)."),
    )


def retention(health: dict) -> Chart:
    figures = health["retention"]
    rows = [
        Row(status, _(status), {"members": count}) for status, count in figures["by_status"].items()
    ]
    return Chart(
        "retention",
        _("Status %(days)s days after approval", days=figures["days"]),
        HEALTH,
        (Column("members", _("Members")),),
        rows,
        note=_("Retained: %(retained)s of %(cohort)s (%(rate)s).")
        % {
            "retained": figures["retained"],
            "cohort": figures["cohort"],
            "rate": shown(figures["rate"], "rate"),
        },
    )


def levels(health: dict) -> Chart:
    rows = [
        Row(str(level["rank"]), level["name"] or _("no level yet"), {"members": level["members"]})
        for level in health["level_progression"]["per_level"]
    ]
    return Chart(
        "levels",
        _("Active members per level"),
        HEALTH,
        (Column("members", _("Members")),),
        rows,
    )


def level_changes(health: dict) -> Chart:
    rows = [
        Row(
            str(c["rank"]),
            _("to rank %(rank)s", rank=c["rank"]),
            {"promotions": c["promotions"], "demotions": c["demotions"]},
        )
        for c in health["level_progression"]["changes"]
    ]
    return Chart(
        "level-changes",
        _("Level changes in the period"),
        HEALTH,
        (Column("promotions", _("Promotions")), Column("demotions", _("Demotions"))),
        rows,
    )


def rank_time(programmes: dict) -> Chart:
    groups = programmes["time_to_rank_2"]
    rows = [
        Row(key, label, groups[key])
        for key, label in (("mentored", _("Mentored")), ("unmentored", _("Not mentored")))
    ]
    return Chart(
        "rank-time",
        _("Days from admission to the next level (rank 2)"),
        PROGRAMMES,
        (
            Column("median_days", _("Median days"), "days"),
            Column("admitted", _("Admitted")),
            Column("reached", _("Reached rank 2")),
        ),
        rows,
        plotted=("median_days",),
        note=_("Members admitted in the period (programmes filter by country only)."),
    )


def disputes(health: dict) -> Chart:
    figures = health["disputes"]
    rows = [
        Row(key, label, {"jobs": figures[key]})
        for key, label in (
            ("jobs_completed", _("Jobs completed")),
            ("jobs_disputed", _("Of them disputed")),
        )
    ]
    return Chart(
        "disputes",
        _("Disputes"),
        HEALTH,
        (Column("jobs", _("Jobs")),),
        rows,
        note=_(
            "Dispute rate: %(rate)s; opened %(opened)s, resolved %(resolved)s, open now %(open)s."
        )
        % {
            "rate": shown(figures["rate"], "rate"),
            "opened": figures["opened"],
            "resolved": figures["resolved"],
            "open": figures["open_now"],
        },
    )


def resolution_time(health: dict) -> Chart:
    hours = health["disputes"]["resolution_hours"]
    rows = [Row(p, p, {"hours": hours[p]}) for p in ("p50", "p90")]
    return Chart(
        "resolution-time",
        _("Hours from a dispute's opening to its resolution"),
        HEALTH,
        (Column("hours", _("Hours"), "hours"),),
        rows,
    )


def sla(service: dict) -> Chart:
    figures = service["sla"]
    rows = [
        Row(key, label, figures[key])
        for key, label in (("first_response", _("First response")), ("resolution", _("Resolution")))
    ]
    return Chart(
        "sla",
        _("SLA compliance of tickets opened in the period"),
        SERVICE,
        (
            Column("rate", _("In time"), "rate"),
            Column("met", _("In time (tickets)")),
            Column("due", _("Due (tickets)")),
        ),
        rows,
        plotted=("rate",),
    )


def satisfaction(service: dict) -> Chart:
    figures = service["satisfaction"]
    rows = [
        Row(str(s["score"]), "★" * s["score"], {"ratings": s["ratings"]})
        for s in figures["per_score"]
    ]
    return Chart(
        "satisfaction",
        _("Ticket satisfaction"),
        SERVICE,
        (Column("ratings", _("Ratings")),),
        rows,
        note=_("Average: %(average)s of 5 from %(n)s ratings.")
        % {"average": shown(figures["average"], "stars"), "n": figures["ratings"]},
    )


def first_offer(service: dict) -> Chart:
    minutes = service["first_offer"]["minutes"]
    return Chart(
        "first-offer",
        _("Minutes from posting to the first offer"),
        SERVICE,
        (Column("minutes", _("Minutes"), "minutes"),),
        [Row(p, p, {"minutes": minutes[p]}) for p in ("p50", "p90")],
        note=_("Jobs posted in the period that got an offer: %(n)s.")
        % {"n": service["first_offer"]["jobs"]},
    )


def fill_rate(service: dict) -> Chart:
    figures = service["fill_rate"]
    rows = [
        Row(key, label, figures[key])
        for key, label in (("within_1h", _("Within 1 hour")), ("within_24h", _("Within 24 hours")))
    ]
    return Chart(
        "fill-rate",
        _("Jobs filled after posting"),
        SERVICE,
        (
            Column("rate", _("Filled"), "rate"),
            Column("filled", _("Filled (jobs)")),
            Column("jobs", _("Jobs")),
        ),
        rows,
        plotted=("rate",),
    )


def escalation(service: dict) -> Chart:
    figures = service["escalation"]
    return Chart(
        "escalation",
        _("Jobs escalated to staff"),
        SERVICE,
        (Column("jobs", _("Jobs")),),
        [
            Row("posted", _("Posted"), {"jobs": figures["posted"]}),
            Row("escalated", _("Escalated"), {"jobs": figures["escalated"]}),
        ],
        note=_("Share escalated: %(rate)s.") % {"rate": shown(figures["rate"], "rate")},
    )


def ratings_region(service: dict) -> Chart:
    rows = [
        Row(
            f"{r['country']}-{r['postcode_area'] or ''}",
            _region(r["country"], r["postcode_area"]),
            {"average": r["average"], "reviews": r["reviews"]},
        )
        for r in service["ratings"]["per_region"]
    ]
    return Chart(
        "ratings-region",
        _("Customers' average rating per region"),
        SERVICE,
        (Column("average", _("Average stars"), "stars"), Column("reviews", _("Reviews"))),
        rows,
        plotted=("average",),
        horizontal=True,
    )


def ratings_skill(service: dict) -> Chart:
    rows = [
        Row(str(s["skill_id"]), s["skill"], {"average": s["average"], "reviews": s["reviews"]})
        for s in service["ratings"]["per_skill"]
    ]
    return Chart(
        "ratings-skill",
        _("Customers' average rating per skill"),
        SERVICE,
        (Column("average", _("Average stars"), "stars"), Column("reviews", _("Reviews"))),
        rows,
        plotted=("average",),
        horizontal=True,
    )


# Name → (source, builder), in the dashboard's order.
CHARTS: dict[str, tuple[str, Callable[[dict], Chart]]] = {
    "active-regions": (HEALTH, active_regions),
    "active-skills": (HEALTH, active_skills),
    "active-regions-time": (HEALTH, active_regions_time),
    "active-skills-time": (HEALTH, active_skills_time),
    "working": (HEALTH, working),
    "funnel": (FUNNEL, funnel),
    "retention": (HEALTH, retention),
    "levels": (HEALTH, levels),
    "level-changes": (HEALTH, level_changes),
    "rank-time": (PROGRAMMES, rank_time),
    "disputes": (HEALTH, disputes),
    "resolution-time": (HEALTH, resolution_time),
    "sla": (SERVICE, sla),
    "satisfaction": (SERVICE, satisfaction),
    "first-offer": (SERVICE, first_offer),
    "fill-rate": (SERVICE, fill_rate),
    "escalation": (SERVICE, escalation),
    "ratings-region": (SERVICE, ratings_region),
    "ratings-skill": (SERVICE, ratings_skill),
}


def build(name: str, figures: dict) -> Chart:
    """The chart `name` from the figures of its source."""
    return CHARTS[name][1](figures)


# --- drawing -------------------------------------------------------------------------------

# Colours with enough contrast on white, and a dash pattern per series, so a
# series is told apart without its colour.
COLOURS = ("#1f4e79", "#b35900", "#2e6b30", "#7a1f5c", "#4d4d4d", "#005f73")
DASHES = ("", "8, 4", "2, 3", "12, 4, 2, 4", "4, 4", "16, 4, 4, 4, 4, 4")
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#555",
    colors=COLOURS,
    font_family="system-ui, sans-serif",
    value_font_size=14,
    value_label_font_size=12,
    label_font_size=13,
    major_label_font_size=13,
    title_font_size=16,
    legend_font_size=13,
)


def svg(chart: Chart) -> bytes:
    """The chart as a standalone SVG document: no script, nothing loaded from elsewhere."""
    if chart.line:
        return _line_svg(chart)
    kind = pygal.HorizontalBar if chart.horizontal else pygal.Bar
    several = len(chart.drawn) > 1
    options = {"range": (0, 5)} if chart.drawn and chart.drawn[0].unit == "stars" else {}
    drawing = kind(
        **_common(chart),
        print_values=True,
        print_labels=several,  # each bar names its series, not only its colour
        print_zeroes=True,
        show_legend=several,
        height=max(300, 60 + 40 * len(chart.rows)) if chart.horizontal else 380,
        x_label_rotation=0 if chart.horizontal or len(chart.rows) <= 5 else 20,
        **options,
    )
    drawing.add_xml_filter(_without_scripts)
    drawing.x_labels = [row.label for row in chart.rows]
    for index, column in enumerate(chart.drawn):
        values = [
            {
                "value": _plot_value(row.values.get(column.key), column.unit),
                "label": column.label if several else None,
                "formatter": lambda v, unit=column.unit: (
                    "" if v is None else f"{v:.2f} %" if unit == "rate" else _number(v)
                ),
            }
            for row in chart.rows
        ]
        drawing.add(
            column.label,
            values,
            stroke_style={"dasharray": DASHES[index % len(DASHES)], "width": 2},
        )
    return drawing.render()


def _common(chart: Chart) -> dict:
    return {
        "style": STYLE,
        "js": [],  # pygal's tooltips load a script from a CDN by default: none
        "title": chart.title,
        "legend_at_bottom": True,
        "width": 720,
        "truncate_label": -1,
        "no_data_text": _("No data in this period"),
        "include_x_axis": True,
    }


def _line_svg(chart: Chart) -> bytes:
    """A line per drawn column, each with its own dash pattern and its name (and last value)
    written at its end, so a line is told without its colour or the legend."""
    drawing = pygal.Line(
        **_common(chart),
        height=380,
        print_values=False,
        print_labels=True,
        show_legend=True,
        x_label_rotation=20,
        show_minor_x_labels=False,
        x_labels_major_count=min(8, len(chart.rows)),
        dots_size=2,
    )
    drawing.add_xml_filter(_without_scripts)
    drawing.x_labels = [row.label for row in chart.rows]
    last = len(chart.rows) - 1
    for index, column in enumerate(chart.drawn):
        values = [
            {
                "value": row.values.get(column.key),
                "label": f"{column.label}: {row.values.get(column.key)}" if n == last else None,
            }
            for n, row in enumerate(chart.rows)
        ]
        drawing.add(
            column.label,
            values,
            stroke_style={"dasharray": DASHES[index % len(DASHES)], "width": 2.5},
        )
    return drawing.render()


def _without_scripts(root):
    """pygal writes its configuration as an inline <script> even with js=[]: drop it (an image
    runs no script anyway, and the SVG's CSP allows none)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _number(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"
