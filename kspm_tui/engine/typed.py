"""Models built from values that already have their declared types, at the cost of a dict.

Findings, their evidence and remediation are built by the hundred thousand from parts the
engine has typed itself (enums from validated rules, models from this package). pydantic's
`model_construct` skips validation but still walks every field's aliases and defaults in
Python, which cost more than everything else about a finding; `construct` sets the same
instance state (`__dict__`, the fields set, no extra, no private) directly.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


def construct(cls: type[M], fields_set: set[str], values: dict[str, Any]) -> M:
    """An instance of `cls` holding `values`, which must name every field, in declaration order.

    `fields_set` is shared by all instances built with it: pydantic only ever adds names to
    it, and a set that already holds every field name is never changed.
    """
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
