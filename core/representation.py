"""DRF's serializer output, computed without its per-field machinery.

A search's result is a dict of a few thousand values already of the API's types: DRF's
`Serializer.to_representation` spends some 3 ms of CPU per result walking it field by field
(attribute look-ups, SkipField exceptions, a method call per value). `representer(serializer)`
compiles the serializer's fields once into plain functions doing what those methods do for
dicts, and keeps DRF's own method for any field it does not know (or a subclass that changes
its output), so the output is DRF's to the value.
"""

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from rest_framework import fields, serializers

_EMPTY = fields.empty
_SKIP = object()  # a key that is not there, or a field left out
_DRF = object()  # a missing key DRF raises about


def _same(field, cls) -> bool:
    """Whether the field's output is cls's (the field does not override to_representation)."""
    return isinstance(field, cls) and type(field).to_representation is cls.to_representation


def _leaf(field) -> Callable[[Any], Any]:
    for cls, convert in (
        (fields.IntegerField, int),
        (fields.FloatField, float),
        (fields.CharField, str),
    ):
        if _same(field, cls):
            return convert
    if _same(field, fields.UUIDField) and field.uuid_format == "hex_verbose":
        return str
    return field.to_representation


def _converter(field) -> Callable[[Any], Any]:
    if _same(field, serializers.ListSerializer):
        child = _converter(field.child)
        drf = field.to_representation
        return lambda data: [child(item) for item in data] if isinstance(data, list) else drf(data)
    if _same(field, serializers.Serializer):
        return representer(field)
    if _same(field, fields.ListField):
        child = _converter(field.child)
        return lambda data: [child(item) if item is not None else None for item in data]
    if _same(field, fields.DictField):
        child = _converter(field.child)
        return lambda value: {
            str(key): child(val) if val is not None else None for key, val in value.items()
        }
    return _leaf(field)


def _entry(field) -> tuple:
    """(name, key, converter, what a missing key gives: None, _SKIP, or _DRF when DRF raises)."""
    if field.allow_null:
        missing = None
    elif not field.required:
        missing = _SKIP
    else:
        missing = _DRF
    return field.field_name, field.source, _converter(field), missing


def representer(serializer) -> Callable[[Any], dict]:
    """A function of an instance giving serializer.to_representation(instance): by the compiled
    fields for a dict (a Mapping), by DRF for anything else. A serializer with a field of a
    dotted or "*" source or a default keeps DRF's code throughout."""
    # DRF's Serializer.to_representation, which the compiled fields do (a subclass may call
    # representer from its own to_representation).
    drf = partial(serializers.Serializer.to_representation, serializer)
    readable = list(serializer._readable_fields)
    if any(f.source == "*" or "." in f.source or f.default is not _EMPTY for f in readable):
        return drf
    entries = [_entry(field) for field in readable]

    def represent(instance) -> dict:
        if not isinstance(instance, Mapping):
            return drf(instance)
        out = {}
        for name, key, convert, missing in entries:
            value = instance.get(key, _SKIP)
            if value is _SKIP:
                if missing is _SKIP:
                    continue
                if missing is _DRF:
                    return drf(instance)  # DRF's error
                value = None
            if value is None:
                out[name] = None
            elif callable(value):  # DRF would call it: its code handles that
                return drf(instance)
            else:
                out[name] = convert(value)
        return out

    return represent
