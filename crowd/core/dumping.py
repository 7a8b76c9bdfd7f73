"""Response dumping compiled from a marshmallow schema: the same output for a fraction of the CPU.

marshmallow's `Schema.dump` sends every field of every object through five calls (serialize →
get_value → get_attribute → utils.get_value → _serialize); on list endpoints that was a third of
the request. `compile_dump` reads a bound schema instance once and builds one closure per field
that does the same lookup and conversion directly.

Only what is known exactly is compiled: the field classes whose `_serialize` is marshmallow 4's
own (Raw, Boolean, String and its subclasses, Integer, Float, Decimal, the date and time fields,
Nested, List, Dict, Enum), on schemas that dump the standard way. Any other field (Function,
Method, Constant, Pluck, a custom `_serialize`, …) is serialised by its own `field.serialize`,
and a schema with dump hooks or its own dump machinery by its own `dump`. Meta options need no
special case: marshmallow applies them (fields, exclude, date formats, load_only, …) when the
schema instance is built, and the compiler reads that result.

The compiled function assumes what marshmallow users assume anyway: a schema instance is not
changed after its first dump, and reading one field of an object does not turn it into (or out
of) a mapping. `CROWD_CHECK_DUMPER` (on in the tests) checks both on every response.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
from flask import current_app, has_app_context
from marshmallow import fields
from marshmallow.constants import missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

# App config key: when true, every compiled dump is compared with marshmallow's own.
CHECK_SETTING = "CROWD_CHECK_DUMPER"

Dump = Callable[..., Any]
_Convert = Callable[[Any], Any]

# Methods on the dump path of a field or schema; overriding any of them leaves it to marshmallow.
_FIELD_HOOKS = ("serialize", "get_value", "_serialize", "_format_num", "_to_string", "schema")
_SCHEMA_HOOKS = ("dump", "_serialize", "get_attribute")


class _Never:
    """A type no value has: `type(value) is _Never` is never true."""


def _identity(value):
    return value


def with_compiled_dump(schema: ma.Schema) -> ma.Schema:
    """A copy of `schema` (same class and options, so the same OpenAPI) whose `dump` is compiled
    on first use; the original is left alone, it may be shared."""
    fast = copy.copy(schema)
    fast.dump = compiled_dump(schema)
    return fast


def compiled_dump(schema: ma.Schema) -> Dump:
    """`schema.dump` as a compiled function, built on its first call (by then every schema that
    a Nested names as a string is registered); checked against marshmallow when CHECK_SETTING."""
    compiled: Dump | None = None

    def dump(obj, *, many=None):
        nonlocal compiled
        if compiled is None:
            compiled = compile_dump(schema)
        if has_app_context() and current_app.config.get(CHECK_SETTING):
            return _checked(schema, compiled, obj, many)
        return compiled(obj, many)

    return dump


def _checked(schema: ma.Schema, compiled: Dump, obj, many):
    if (schema.many if many is None else many) and isinstance(obj, Iterator):
        obj = list(obj)  # both dumps must see every item
    # Compiled first: it meets the objects as production does (e.g. before lazy loads).
    actual = compiled(obj, many)
    expected = schema.dump(obj, many=many)
    where = _difference(actual, expected, "$")
    if where is not None:
        raise AssertionError(
            f"compiled dump of {type(schema).__name__} differs from marshmallow's at {where}: "
            f"{actual!r} != {expected!r}"
        )
    return actual


def _difference(actual, expected, path: str) -> str | None:
    """Where `actual` and `expected` differ, by type, order or value; None when identical."""
    if type(actual) is not type(expected):
        return f"{path} ({type(actual).__name__} vs {type(expected).__name__})"
    if isinstance(actual, dict):
        if len(actual) != len(expected):
            return f"{path} (keys {list(actual)} vs {list(expected)})"
        for (key, value), (other_key, other) in zip(actual.items(), expected.items(), strict=True):
            where = _difference(key, other_key, f"{path} key {key!r}") or _difference(
                value, other, f"{path}.{key}"
            )
            if where is not None:
                return where
        return None
    if isinstance(actual, list | tuple):
        if len(actual) != len(expected):
            return f"{path} (length {len(actual)} vs {len(expected)})"
        for index, (one, other) in enumerate(zip(actual, expected, strict=True)):
            where = _difference(one, other, f"{path}[{index}]")
            if where is not None:
                return where
        return None
    if actual is None or isinstance(actual, str | int):
        return None if actual == expected else path
    # repr also tells -0.0 from 0.0 and Decimal("1.0") from Decimal("1.00"); for floats it
    # alone decides (nan != nan).
    same = repr(actual) == repr(expected) and (actual == expected or isinstance(actual, float))
    return None if same else path


# --- schemas -------------------------------------------------------------------------------


def compile_dump(schema: ma.Schema) -> Dump:
    """A function (obj, many=None) returning exactly `schema.dump(obj, many=many)`."""
    return _compile_schema(schema, ())


def _compile_schema(schema: ma.Schema, active: tuple[type, ...]) -> Dump:
    if not _compilable_schema(schema):
        own_dump = schema.dump

        def dump_by_marshmallow(obj, many=None):
            return own_dump(obj, many=many)

        return dump_by_marshmallow

    one = _compile_object(schema, (*active, type(schema)))
    default_many = schema.many

    def dump(obj, many=None):
        # Schema.dump: a list for many, unless obj is None (then the fields of None, like one).
        if (default_many if many is None else many) and obj is not None:
            return [one(item) for item in obj]
        return one(obj)

    return dump


def _compilable_schema(schema: ma.Schema) -> bool:
    cls = type(schema)
    return (
        all(getattr(cls, name) is getattr(ma.Schema, name) for name in _SCHEMA_HOOKS)
        and not any(name in vars(schema) for name in _SCHEMA_HOOKS)
        and not schema._hooks.get(PRE_DUMP)
        and not schema._hooks.get(POST_DUMP)
        and schema.dict_class is dict
        and cls.OPTIONS_CLASS is ma.SchemaOpts
    )


def _compile_object(schema: ma.Schema, active: tuple[type, ...]) -> Callable[[Any], dict]:
    """Schema._serialize of one object: each dump field in order, missing values left out."""
    for_mappings, for_objects = [], []
    for name, field in schema.dump_fields.items():
        key = name if field.data_key is None else field.data_key
        by_key, by_attribute = _field_getters(name, field, schema, active)
        for_mappings.append((key, by_key))
        for_objects.append((key, by_attribute))
    mapping_plan, object_plan = tuple(for_mappings), tuple(for_objects)

    def one(obj):
        # utils.get_value asks hasattr(obj, "__getitem__") for every field; it is the object's
        # answer, so it is asked once: mappings are read by key (else attribute), the rest by
        # attribute.
        plan = mapping_plan if hasattr(obj, "__getitem__") else object_plan
        ret = {}
        for key, get in plan:
            value = get(obj)
            if value is not missing:
                ret[key] = value
        return ret

    return one


# --- fields --------------------------------------------------------------------------------


def _field_getters(name: str, field: fields.Field, schema: ma.Schema, active) -> tuple:
    """Two functions obj -> the field's dumped value or `missing`, as field.serialize gives it:
    one for objects with __getitem__, one for the others."""
    try:
        convert = _converter(field, active) if _compilable_field(field) else None
    except RecursionError:
        raise  # a nesting cycle the compiler failed to see: a bug here, not in the schema
    except Exception:
        # E.g. a Nested naming an unknown schema: marshmallow raises it when (if) it dumps one.
        convert = None
    if convert is None:
        serialize, accessor = field.serialize, schema.get_attribute

        def by_marshmallow(obj):
            return serialize(name, obj, accessor=accessor)

        return by_marshmallow, by_marshmallow

    convert, passthrough = convert
    path = name if field.attribute is None else field.attribute
    default = field.dump_default
    if "." not in path and default is missing:
        return _simple_getters(path, convert, passthrough)
    general = _general_getter(path, convert, default)
    return general, general


def _simple_getters(key: str, convert: _Convert, passthrough: type) -> tuple:
    """A plain key or attribute with no dump_default: the hot path, lookups written out."""
    if convert is _identity:

        def raw_by_key(obj):
            try:
                return obj[key]
            except _LOOKUP_ERRORS:
                return getattr(obj, key, missing)

        def raw_by_attribute(obj):
            return getattr(obj, key, missing)

        return raw_by_key, raw_by_attribute

    # Values of the passthrough type come out of the conversion unchanged (str(s) is s).
    def by_key(obj):
        try:
            value = obj[key]
        except _LOOKUP_ERRORS:
            value = getattr(obj, key, missing)
        if type(value) is passthrough or value is None or value is missing:
            return value
        return convert(value)

    def by_attribute(obj):
        value = getattr(obj, key, missing)
        if type(value) is passthrough or value is None or value is missing:
            return value
        return convert(value)

    return by_key, by_attribute


def _general_getter(path: str, convert: _Convert, default) -> Callable:
    """A dotted path or a dump_default: utils.get_value step by step, then the default."""
    parts = path.split(".")
    call_default = callable(default)

    def get(obj):
        value = obj
        for part in parts:
            value = _value_for_key(value, part)
        if value is missing:
            value = default() if call_default else default
            if value is missing:
                return value
        if value is None:
            return None
        return convert(value)

    return get


def _value_for_key(obj, key: str):
    """marshmallow.utils._get_value_for_key with default `missing`."""
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, missing)
    return _item(obj, key)


# What utils._get_value_for_key catches from obj[key] before it tries getattr.
_LOOKUP_ERRORS = (KeyError, IndexError, TypeError, AttributeError)


def _item(obj, key: str):
    try:
        return obj[key]
    except _LOOKUP_ERRORS:
        return getattr(obj, key, missing)


def _compilable_field(field: fields.Field) -> bool:
    """Whether field.serialize is marshmallow's own: look the value up, default it, _serialize."""
    cls = type(field)
    return (
        cls.serialize is fields.Field.serialize
        and cls.get_value is fields.Field.get_value
        and field._CHECK_ATTRIBUTE is True
    )


def _converter(field: fields.Field, active) -> tuple[_Convert, type] | None:
    """(convert, passthrough) doing field._serialize for values other than None, or None when
    the field's _serialize is not one compiled here. Every _serialize compiled here maps None
    to None; `passthrough` is a type whose values it returns unchanged (else _Never)."""
    if any(name in vars(field) for name in _FIELD_HOOKS):
        return None
    cls = type(field)
    serialize = cls._serialize
    if serialize is fields.Field._serialize:  # Raw, Boolean (marshmallow 4 dumps it as is)
        return _identity, _Never
    if serialize is fields.String._serialize:  # also Email, Url and our Trimmed
        return _text, str
    if serialize is fields.Number._serialize:
        return _number(field)
    if serialize is fields.DateTime._serialize:  # every date/time field: _TemporalField's
        return _temporal(field), _Never
    if serialize is fields.Nested._serialize and cls.schema is fields.Nested.schema:
        return _nested(field, active), _Never
    if serialize is fields.List._serialize:
        inner = _inner_converter(field.inner, active)
        return None if inner is None else (_list_of(inner), _Never)
    if serialize is fields.Mapping._serialize:
        return _mapping(field, active)
    if serialize is fields.Enum._serialize:
        inner = _inner_converter(field.field, active)
        return None if inner is None else (_enum(field, inner), _Never)
    return None


def _inner_converter(field: fields.Field, active) -> _Convert | None:
    """field._serialize(value, …) for any value, None included (List items, Dict keys/values)."""
    converted = _converter(field, active)
    if converted is None:
        return None
    convert, _ = converted
    if convert is _identity:
        return _identity

    def inner(value):
        return None if value is None else convert(value)

    return inner


def _text(value):
    """String._serialize (utils.ensure_text_type)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return str(value)


def _number(field: fields.Number) -> tuple[_Convert, type]:
    cls = type(field)
    # Number._format_num is num_type(value); a subclass's own (Decimal) is called as is.
    to_number = (
        field.num_type if cls._format_num is fields.Number._format_num else field._format_num
    )
    if field.as_string:
        to_string = str if cls._to_string is fields.Number._to_string else field._to_string

        def as_string(value):
            return to_string(to_number(value))

        return as_string, _Never
    passthrough = to_number if to_number in (int, float) else _Never
    return to_number, passthrough


def _temporal(field) -> _Convert:
    data_format = field.format or field.DEFAULT_FORMAT
    to_text = field.SERIALIZATION_FUNCS.get(data_format)
    if to_text:
        return to_text  # e.g. datetime.isoformat for "iso"

    def strftime(value):
        return value.strftime(data_format)

    return strftime


def _nested(field: fields.Nested, active) -> _Convert:
    """Nested._serialize: schema.dump(value, many=schema.many or field.many); value not None."""
    schema = field.schema  # resolved now, as the first dump would
    many = schema.many or field.many
    if not _compilable_schema(schema):
        own_dump = schema.dump

        def by_marshmallow(value):
            return own_dump(value, many=many)

        return by_marshmallow
    if type(schema) in active:
        # A schema nesting itself (directly or not): compile that level on first use only.
        compiled: Dump | None = None

        def lazily(value):
            nonlocal compiled
            if compiled is None:
                compiled = _compile_schema(schema, ())
            return compiled(value, many)

        return lazily
    one = _compile_object(schema, (*active, type(schema)))
    if many:  # None only when schema.many is false: Schema.dump then dumps one

        def each(value):
            return [one(item) for item in value]

        return each
    return one


def _list_of(inner: _Convert) -> _Convert:
    if inner is _identity:
        return list

    def as_list(value):
        return [inner(each) for each in value]

    return as_list


def _mapping(field: fields.Mapping, active) -> tuple[_Convert, type] | None:
    key_field, value_field = field.key_field, field.value_field
    mapping_type = field.mapping_type
    if not value_field and not key_field:
        return mapping_type, _Never
    key_convert = None if key_field is None else _inner_converter(key_field, active)
    value_convert = None if value_field is None else _inner_converter(value_field, active)
    if (key_field is not None and key_convert is None) or (
        value_field is not None and value_convert is None
    ):
        return None

    key_of = _identity if key_convert is None else key_convert

    def as_mapping(value):
        keys = {k: key_of(k) for k in value}
        result = mapping_type()
        if value_convert is None:
            for k, v in value.items():
                if k in keys:
                    result[keys[k]] = v
        else:
            for k, v in value.items():
                result[keys[k]] = value_convert(v)
        return result

    return as_mapping, _Never


def _enum(field: fields.Enum, inner: _Convert) -> _Convert:
    if field.by_value:

        def by_value(value):
            return inner(value.value)

        return by_value

    def by_name(value):
        return inner(value.name)

    return by_name
