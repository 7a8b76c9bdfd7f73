"""The compiled response dumper gives exactly what marshmallow's Schema.dump gives."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from types import SimpleNamespace

import marshmallow as ma
import pytest
from flask import Flask
from flask_smorest import Api, Blueprint

from crowd.core import dumping
from crowd.core.dumping import compile_dump, with_compiled_dump
from crowd.core.fields import Trimmed
from crowd.core.openapi import CrowdBlueprint
from members.schemas import AvailabilitySlotSchema

F = ma.fields
UTC = dt.UTC
BERLIN = dt.timezone(dt.timedelta(hours=1), "CET")
WHEN = dt.datetime(2026, 3, 1, 9, 30, 15, 250, tzinfo=UTC)


class Colour(enum.Enum):
    RED = "red"
    GREEN = 2
    NONE = None


def assert_same(schema: ma.Schema, obj, **kwargs):
    """Compiled and marshmallow dumps are equal, in value, type and key order (repr shows all)."""
    expected = schema.dump(obj, **kwargs)
    actual = compile_dump(schema)(obj, kwargs.get("many"))
    assert actual == expected
    assert repr(actual) == repr(expected)
    return actual


def one_field(field: ma.fields.Field) -> ma.Schema:
    return ma.Schema.from_dict({"value": field})()


def holders(value):
    """The value as a dict key and as an attribute, and missing from both."""
    return [{"value": value}, SimpleNamespace(value=value), {}, SimpleNamespace()]


# --- each field type -----------------------------------------------------------------------

CASES = {
    "string": (F.String, ["text", "", None, b"bytes", 42, 1.5, True, Colour.RED, WHEN]),
    "email": (F.Email, ["a@example.com", None]),
    "url": (F.Url, ["https://example.com", None]),
    "trimmed (ours)": (Trimmed, ["  kept as is  ", None, 7]),
    "integer": (F.Integer, [7, 0, -3, None, True, False, 5.9, "12", decimal.Decimal("3.7")]),
    "integer as string": (lambda: F.Integer(as_string=True), [7, None, True, 2.5]),
    "float": (F.Float, [1.5, 0.0, -0.0, 3, None, True, "2.25", decimal.Decimal("0.1")]),
    "float as string": (lambda: F.Float(as_string=True), [1.5, 3, None]),
    "decimal": (F.Decimal, [decimal.Decimal("1.10"), 2, 1.1, "3.30", None]),
    "decimal places as string": (
        lambda: F.Decimal(places=2, as_string=True),
        [decimal.Decimal("1.005"), 3, "7.1", None],
    ),
    "boolean": (F.Boolean, [True, False, None, 1, 0, "yes", "no", "", [], "f"]),
    "raw": (F.Raw, [{"a": [1, 2]}, [3], "x", 1.0, None, WHEN]),
    "field": (F.Field, [{"b": 1}, None]),
    "datetime": (
        F.DateTime,
        [
            WHEN,
            WHEN.replace(microsecond=0),
            WHEN.astimezone(BERLIN),
            WHEN.replace(tzinfo=None),
            None,
        ],
    ),
    "datetime rfc": (lambda: F.DateTime(format="rfc"), [WHEN, WHEN.replace(tzinfo=None)]),
    "datetime timestamp": (lambda: F.DateTime(format="timestamp"), [WHEN, WHEN.astimezone(BERLIN)]),
    "datetime timestamp_ms": (lambda: F.DateTime(format="timestamp_ms"), [WHEN]),
    "datetime strftime": (lambda: F.DateTime(format="%d.%m.%Y %H:%M"), [WHEN, None]),
    "naive datetime": (F.NaiveDateTime, [WHEN.replace(tzinfo=None), None]),
    "aware datetime": (F.AwareDateTime, [WHEN, WHEN.astimezone(BERLIN), None]),
    "date": (F.Date, [dt.date(2026, 2, 28), WHEN, None]),
    "date strftime": (lambda: F.Date(format="%d/%m/%Y"), [dt.date(2026, 2, 28)]),
    "time": (F.Time, [dt.time(8, 5), dt.time(23, 59, 59, 1, tzinfo=UTC), None]),
    "enum by name": (lambda: F.Enum(Colour), [Colour.RED, Colour.GREEN, None]),
    "enum by value": (lambda: F.Enum(Colour, by_value=True), [Colour.RED, Colour.NONE, None]),
    "enum by value as string": (lambda: F.Enum(Colour, by_value=F.String), [Colour.GREEN]),
    "list of strings": (lambda: F.List(F.String()), [["a", None, 3], [], (), None, "ab"]),
    "list of integers": (lambda: F.List(F.Integer()), [[1, "2", True, None], None]),
    "list of raw": (lambda: F.List(F.Raw()), [[1, "2", None], {"k": 1}]),
    "list of datetimes": (lambda: F.List(F.DateTime()), [[WHEN, None]]),
    "list of lists": (lambda: F.List(F.List(F.Float())), [[[1, 2.5], [], None]]),
    "dict": (F.Dict, [{"a": 1, "b": [2]}, {}, None, [("k", "v")]]),
    "dict of raw": (
        lambda: F.Dict(keys=F.String(), values=F.Raw(allow_none=True)),
        [{"a": 1, 2: None}, None],
    ),
    "dict of integers": (lambda: F.Dict(values=F.Integer()), [{"a": "1", "b": None}]),
    "dict with key field only": (lambda: F.Dict(keys=F.String()), [{1: "a", "1": "b"}]),
}


@pytest.mark.parametrize(("make", "values"), CASES.values(), ids=CASES.keys())
def test_each_field_type_dumps_as_marshmallow_does(make, values):
    schema = one_field(make())
    for value in values:
        for holder in holders(value):
            assert_same(schema, holder)


def test_the_conversions_are_marshmallow_4s():
    schema = ma.Schema.from_dict(
        {
            "n": F.Integer(),
            "f": F.Float(),
            "s": F.String(),
            "b": F.Boolean(),
            "when": F.DateTime(),
            "day": F.Date(),
        }
    )()
    obj = {"n": "12", "f": 3, "s": b"caf\xc3\xa9", "b": "yes", "when": WHEN, "day": WHEN.date()}
    assert assert_same(schema, obj) == {
        "n": 12,
        "f": 3.0,
        "s": "café",
        "b": "yes",  # marshmallow 4's Boolean dumps the value as it is
        "when": "2026-03-01T09:30:15.000250+00:00",
        "day": "2026-03-01",
    }


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (F.Integer(), "twelve", ValueError),
        (F.Float(), object(), TypeError),
        (F.DateTime(), "2026-01-01", TypeError),
        (F.List(F.String()), 5, TypeError),
        (F.String(), b"\xff", UnicodeDecodeError),
    ],
)
def test_values_marshmallow_refuses_raise_the_same_error(field, value, error):
    schema = one_field(field)
    with pytest.raises(error):
        schema.dump({"value": value})
    with pytest.raises(error):
        compile_dump(schema)({"value": value})


# --- where values come from ----------------------------------------------------------------


class Thing:
    """An object with attributes, a property and no __getitem__."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @property
    def label(self):
        return f"thing {self.__dict__.get('id')}"


class Lookup(dict):
    """A mapping with attributes too: keys win, attributes answer what keys lack."""

    colour = "blue"


class Listish(list):
    name = "listish"


def test_mappings_are_read_by_key_then_attribute_and_objects_by_attribute():
    schema = ma.Schema.from_dict(
        {"id": F.Integer(), "label": F.String(), "colour": F.String(), "name": F.String()}
    )()
    for obj in [
        {"id": 1, "label": "from the key"},
        Lookup(id=2, colour="key beats attribute"),
        Lookup(id=3),
        Thing(id=4, name="n"),
        Listish([1, 2]),
        ("a", "tuple"),
        "a string",
        None,
        42,
    ]:
        assert_same(schema, obj)


def test_a_dict_without_the_key_gives_its_attribute_as_marshmallow_does():
    # utils.get_value falls back to getattr: a dict has an `items` attribute (its method).
    schema = ma.Schema.from_dict({"items": F.Raw(), "copy": F.Raw(), "id": F.Integer()})()
    expected = schema.dump({"id": 1})
    actual = compile_dump(schema)({"id": 1})
    assert list(actual) == list(expected) == ["items", "copy", "id"]
    assert actual["id"] == 1
    assert actual["items"].__name__ == expected["items"].__name__ == "items"


def test_data_key_attribute_and_dotted_paths():
    schema = ma.Schema.from_dict(
        {
            "from_": F.Date(data_key="from", attribute="from"),
            "job_id": F.Integer(attribute="id"),
            "city": F.String(attribute="job.address.city"),
            "first": F.Raw(attribute="items.0"),
            "missing_deep": F.String(attribute="job.nothing.here"),
        }
    )()
    obj = {
        "from": dt.date(2026, 1, 1),
        "id": 9,
        "job": Thing(address={"city": "Berlin"}),
        "items": ["a", "b"],
    }
    assert assert_same(schema, obj) == {
        "from": "2026-01-01",
        "job_id": 9,
        "city": "Berlin",
    }  # "items.0": a list is not indexed by the key "0", so it is left out
    assert_same(schema, Thing(id=1, job=None, items=[]))
    assert_same(schema, {"job": {"address": None}})
    assert_same(schema, {"job": Thing(address=Thing(city=b"K\xc3\xb6ln"))})


def test_missing_values_are_left_out_none_is_kept_and_dump_default_fills_in():
    calls = []

    def counted():
        calls.append(1)
        return 5

    schema = ma.Schema.from_dict(
        {
            "plain": F.String(),
            "nullable": F.Integer(allow_none=True),
            "fixed": F.String(dump_default="n/a"),
            "computed": F.Integer(dump_default=counted),
            "none_default": F.DateTime(dump_default=None),
            "dotted_default": F.String(attribute="a.b", dump_default="deep"),
        }
    )()
    assert assert_same(schema, {"nullable": None}) == {
        "nullable": None,
        "fixed": "n/a",
        "computed": 5,
        "none_default": None,
        "dotted_default": "deep",
    }
    assert calls == [1, 1]  # called on each dump: marshmallow's, then the compiled one
    assert_same(schema, {"plain": "p", "fixed": None, "computed": "7", "a": {"b": 1}})
    assert_same(schema, Thing(plain=None))


def test_schema_options_only_exclude_load_only_and_meta():
    class Options(ma.Schema):
        class Meta:
            exclude = ("hidden",)
            datetimeformat = "%Y-%m-%d %H:%M"
            dateformat = "%d.%m.%Y"
            load_only = ("password",)

        id = F.Integer()
        name = F.String()
        hidden = F.String()
        password = F.String()
        secret = F.String(load_only=True)
        when = F.DateTime()
        iso = F.DateTime(format="iso")
        day = F.Date()

    obj = Thing(
        id=1, name="x", hidden="h", password="p", secret="s", when=WHEN, iso=WHEN, day=WHEN.date()
    )
    assert assert_same(Options(), obj) == {
        "id": 1,
        "name": "x",
        "when": "2026-03-01 09:30",
        "iso": "2026-03-01T09:30:15.000250+00:00",
        "day": "01.03.2026",
    }
    assert list(assert_same(Options(only=("name", "id")), obj)) == ["name", "id"]
    assert list(assert_same(Options(exclude=("when", "iso", "day")), obj)) == ["id", "name"]
    assert_same(Options(load_only=("name",)), obj)
    assert_same(Options(dump_only=("name",)), obj)

    class Listed(ma.Schema):
        class Meta:
            fields = ("b", "a")

        a = F.Integer()
        b = F.Integer()
        c = F.Integer()

    assert list(assert_same(Listed(), {"a": 1, "b": 2, "c": 3})) == ["b", "a"]


def test_many_from_the_instance_or_the_call():
    schema = ma.Schema.from_dict({"id": F.Integer()})
    rows = [{"id": 1}, Thing(id="2"), {}]
    assert assert_same(schema(many=True), rows) == [{"id": 1}, {"id": 2}, {}]
    assert compile_dump(schema(many=True))(row for row in rows) == schema(many=True).dump(rows)
    assert_same(schema(), rows, many=True)
    assert_same(schema(many=True), rows[0], many=False)
    assert_same(schema(many=True), [])
    assert_same(schema(many=True), None)  # marshmallow dumps None as one object: {}
    assert_same(schema(), None)


# --- nesting -------------------------------------------------------------------------------


class PersonSchema(ma.Schema):
    id = F.Integer()
    name = F.String()
    email = F.Email()


class WindowSchema(ma.Schema):
    starts_at = F.DateTime()
    ends_at = F.DateTime()


class DumpingJobSchema(ma.Schema):
    id = F.Integer()
    customer = F.Nested(PersonSchema, only=("id", "name"))
    member = F.Nested("PersonSchema", exclude=("email",), allow_none=True)
    watchers = F.Nested(PersonSchema, many=True)
    windows = F.List(F.Nested(WindowSchema))
    price = F.Nested(lambda: ma.Schema.from_dict({"amount": F.Integer(), "currency": F.Str()})())
    by_role = F.Dict(keys=F.String(), values=F.Nested(PersonSchema(only=("name",))))
    named = F.Nested(PersonSchema(only=("id", "name", "email")), only=("name", "email"))
    parent = F.Nested(lambda: DumpingJobSchema(only=("id", "parent")))


def _person(n):
    return Thing(id=n, name=f"P{n}", email=f"p{n}@example.com")


def test_nested_schemas_with_many_only_exclude_and_names():
    job = Thing(
        id=1,
        customer=_person(1),
        member=None,
        watchers=[_person(2), {"id": "3", "name": None}],
        windows=[{"starts_at": WHEN, "ends_at": None}, None],
        price={"amount": 12000, "currency": "EUR"},
        by_role={"cm": _person(4), "admin": None},
        named=_person(5),
        parent=Thing(id=0, parent=Thing(id=-1, parent=None)),
    )
    dumped = assert_same(DumpingJobSchema(), job)
    assert dumped["customer"] == {"id": 1, "name": "P1"}
    assert dumped["member"] is None
    assert dumped["windows"] == [
        {"starts_at": "2026-03-01T09:30:15.000250+00:00", "ends_at": None},
        None,
    ]
    assert dumped["named"] == {"name": "P5", "email": "p5@example.com"}
    assert dumped["parent"] == {"id": 0, "parent": {"id": -1, "parent": None}}
    assert_same(DumpingJobSchema(many=True), [job, {"id": 2, "watchers": []}])
    assert_same(DumpingJobSchema(only=("id", "customer.name")), job)


def test_a_nested_schema_that_cannot_be_found_fails_only_when_dumped():
    schema = ma.Schema.from_dict({"id": F.Integer(), "ghost": F.Nested("NoSuchSchema")})()
    assert assert_same(schema, {"id": 1}) == {"id": 1}
    with pytest.raises(ma.exceptions.RegistryError):
        compile_dump(schema)({"ghost": {}})


# --- what is left to marshmallow -----------------------------------------------------------


class Upper(F.String):
    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value).upper()


class FromContext(F.Integer):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return 99


class Doubled(F.Integer):
    def serialize(self, attr, obj, accessor=None, **kwargs):
        return 2 * super().serialize(attr, obj, accessor, **kwargs)


class HookedSchema(ma.Schema):
    id = F.Integer()
    name = F.String()

    @ma.pre_dump
    def wrap(self, obj, **kwargs):
        return {"id": obj["id"] * 10, "name": obj.get("name")}

    @ma.post_dump
    def stamp(self, data, **kwargs):
        return {**data, "stamped": True}


class PreDumpOnlySchema(ma.Schema):
    id = F.Integer()

    @ma.pre_dump
    def unwrap(self, obj, **kwargs):
        return obj["inner"]


class PostDumpOnlySchema(ma.Schema):
    id = F.Integer()

    @ma.post_dump(pass_collection=True)
    def envelope(self, data, many, **kwargs):
        return {"data": data, "many": many}


class OwnAccessorSchema(ma.Schema):
    id = F.Integer()

    def get_attribute(self, obj, attr, default):
        return 7


class MethodSchema(ma.Schema):
    id = F.Integer()
    double = F.Method("doubled")
    label = F.Function(lambda obj: f"#{obj['id']}")
    kind = F.Constant("job")
    upper = Upper()
    forced = FromContext()
    twice = Doubled(attribute="id", dump_only=True)
    pluck = F.Pluck(PersonSchema, "name")
    plucks = F.Pluck(PersonSchema, "id", many=True)
    pair = F.Tuple((F.String(), F.Integer()))
    items = F.List(Upper())
    hooked = F.Nested(HookedSchema)
    uuid = F.UUID()
    span = F.TimeDelta()

    def doubled(self, obj):
        return obj["id"] * 2


def test_fields_and_schemas_it_does_not_know_are_dumped_by_marshmallow():
    obj = {
        "id": 3,
        "upper": "shout",
        "pluck": _person(1),
        "plucks": [_person(2), _person(3)],
        "pair": ("a", "2"),
        "items": ["x", None],
        "hooked": {"id": 4},
        "uuid": "12345678-1234-5678-1234-567812345678",
        "span": dt.timedelta(minutes=3),
    }
    dumped = assert_same(MethodSchema(), obj)
    assert dumped["double"] == 6 and dumped["label"] == "#3" and dumped["kind"] == "job"
    assert dumped["upper"] == "SHOUT" and dumped["forced"] == 99 and dumped["twice"] == 6
    assert dumped["hooked"] == {"id": 40, "name": None, "stamped": True}
    assert_same(HookedSchema(many=True), [{"id": 1}, {"id": 2, "name": "two"}])
    assert_same(PreDumpOnlySchema(), {"inner": {"id": 5}})
    assert assert_same(PostDumpOnlySchema(many=True), [{"id": 1}]) == {
        "data": [{"id": 1}],
        "many": True,
    }
    assert_same(OwnAccessorSchema(), {"id": 1})
    patched = ma.Schema.from_dict({"id": F.Integer(), "name": F.String()})()
    patched.fields["name"]._serialize = lambda value, attr, obj, **kwargs: "patched"
    assert assert_same(patched, {"id": 1, "name": "n"}) == {"id": 1, "name": "patched"}
    patched.get_attribute = lambda obj, attr, default: 2
    assert assert_same(patched, {"id": 1}) == {"id": 2, "name": "patched"}
    slot = {"weekday": 1, "start_minute": 480, "end_minute": 1440}
    assert assert_same(AvailabilitySlotSchema(), slot)["end"] == "24:00"


def test_known_fields_skip_marshmallows_machinery_and_unknown_ones_use_it(monkeypatch):
    known = ma.Schema.from_dict(
        {
            "id": F.Integer(),
            "name": F.String(),
            "when": F.DateTime(),
            "tags": F.List(F.Str()),
            "flag": F.Boolean(),
            "raw": F.Raw(),
            "person": F.Nested(PersonSchema),
            "counts": F.Dict(keys=F.Str(), values=F.Integer()),
            "anything": F.Dict(),
            "colour": F.Enum(Colour),
            "parent": F.Nested(lambda: DumpingJobSchema(only=("id", "parent"))),
        }
    )()
    unknown = ma.Schema.from_dict({"label": F.Function(lambda obj: "x")})()
    fast_known, fast_unknown = compile_dump(known), compile_dump(unknown)

    def refuse(*args, **kwargs):
        raise RuntimeError("marshmallow's field machinery was used")

    for cls, method in [
        (F.Field, "serialize"),
        (F.Field, "get_value"),
        (F.Field, "_serialize"),
        (F.Nested, "_serialize"),
        (F.Mapping, "_serialize"),
        (F.Enum, "_serialize"),
        (F.String, "_serialize"),
        (F.Number, "_serialize"),
        (F.DateTime, "_serialize"),
        (F.List, "_serialize"),
        (F.Function, "_serialize"),
    ]:
        monkeypatch.setattr(cls, method, refuse)
    obj = {
        "id": 1,
        "name": "n",
        "when": WHEN,
        "tags": ["a"],
        "flag": True,
        "raw": [1],
        "person": _person(1),
        "counts": {"a": 1},
        "anything": {"b": [2]},
        "colour": Colour.RED,
        "parent": Thing(id=0, parent=Thing(id=-1, parent=None)),
    }
    assert fast_known(obj) == {
        **obj,
        "when": WHEN.isoformat(),
        "person": {"id": 1, "name": "P1", "email": "p1@example.com"},
        "colour": "RED",
        "parent": {"id": 0, "parent": {"id": -1, "parent": None}},
    }
    with pytest.raises(RuntimeError):
        fast_unknown({})


# --- the blueprint and the check -----------------------------------------------------------


class EventSchema(ma.Schema):
    id = F.Integer()
    when = F.DateTime()


def _app(blueprint_class, schema):
    app = Flask(__name__)
    app.config.update(
        API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3", CROWD_CHECK_DUMPER=True
    )
    api = Api(app)
    blp = blueprint_class("events", __name__)

    @blp.route("/events")
    @blp.response(200, schema)
    def events():
        return [{"id": 1, "when": WHEN}, Thing(id=2, when=None)]

    api.register_blueprint(blp)
    return app, api


@pytest.mark.parametrize("schema", [EventSchema(many=True), EventSchema(many=True, only=("id",))])
def test_crowd_blueprint_responds_and_documents_as_flask_smorest_does(schema, monkeypatch):
    checked = []
    original = dumping._checked
    monkeypatch.setattr(dumping, "_checked", lambda *a: checked.append(1) or original(*a))
    ours, our_api = _app(CrowdBlueprint, schema)
    theirs, their_api = _app(Blueprint, schema)
    response = ours.test_client().get("/events")
    assert response.data == theirs.test_client().get("/events").data
    assert checked == [1]
    assert our_api.spec.to_dict() == their_api.spec.to_dict()
    assert "dump" not in vars(schema)  # the schema given is left alone


def test_the_check_catches_a_compiled_dump_that_differs(app):
    schema = EventSchema()
    fast = with_compiled_dump(schema)
    event = {"id": 1, "when": WHEN}
    with app.app_context():
        assert app.config["CROWD_CHECK_DUMPER"] is True  # on for the whole suite
        assert fast.dump(event) == schema.dump(event)
        # Changed after the first dump (compiled then): marshmallow follows, compiled does not.
        schema.fields["when"].format = "rfc"
        with pytest.raises(AssertionError, match=r"EventSchema .* at \$\.when"):
            fast.dump(event)
        app.config["CROWD_CHECK_DUMPER"] = False
        try:
            assert fast.dump(event)["when"] == "2026-03-01T09:30:15.000250+00:00"
        finally:
            app.config["CROWD_CHECK_DUMPER"] = True


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ({"a": 1}, {"a": True}),
        ({"a": 1}, {"a": 1.0}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({1: "x"}, {"1": "x"}),
        ([0.0], [-0.0]),
        ([decimal.Decimal("1.0")], [decimal.Decimal("1.00")]),
        ([1, 2], [1, 2, 3]),
        ([1], (1,)),
        ({"a": None}, {}),
    ],
)
def test_the_check_tells_apart_what_json_would(actual, expected):
    assert dumping._difference(actual, expected, "$") is not None
    assert dumping._difference(expected, expected, "$") is None


def test_every_real_response_goes_through_the_checked_compiled_dump(client, monkeypatch):
    checked = []
    original = dumping._checked
    monkeypatch.setattr(dumping, "_checked", lambda *a: checked.append(a[0]) or original(*a))
    response = client.get("/api/v1/skills")
    assert response.status_code == 200
    assert [type(schema).__name__ for schema in checked] == ["CatalogueSchema"]


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_schema_of_the_app_compiles(app):
    domains = ("crowd.", "jobs.", "payouts.", "onboarding.", "support.", "mentoring.")
    schemas = [c for c in _all_subclasses(ma.Schema) if c.__module__.startswith(domains)]
    assert len(schemas) > 100
    for schema_class in schemas:
        for many in (False, True):
            assert callable(compile_dump(schema_class(many=many))), schema_class
