"""The one error hierarchy: every error class of ours derives from geo.errors.RiskmapError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import geo
import layers
import webmap
from geo import errors
from geo.capabilities.area_risk import MissingReferenceError
from geo.capabilities.border import MissingBorderError
from geo.entities import UnknownColumnError, UnknownEntityError
from geo.stores.protocol import StoreError
from geo.tiles import TileRangeError
from geo.veto import GeometryError, RuleSetError, UnknownLandUseError


def _our_modules() -> list[str]:
    names = []
    for package in (geo, layers, webmap):
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if ".migrations" not in info.name:
                names.append(info.name)
    return names


def _our_exception_classes() -> list[type[BaseException]]:
    found = []
    for name in _our_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, BaseException):
                found.append(cls)
    return found


def test_every_exception_class_of_ours_derives_from_the_one_base() -> None:
    classes = _our_exception_classes()
    assert len(classes) >= 15  # the walk found them
    strays = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, errors.RiskmapError)]
    assert strays == []


@pytest.mark.parametrize(("cls", "kind"), [
    (UnknownColumnError, errors.BadInput), (TileRangeError, errors.BadInput), (RuleSetError, errors.BadInput),
    (UnknownLandUseError, errors.BadInput), (UnknownEntityError, errors.NotFound),
    (MissingBorderError, errors.NotFound), (MissingReferenceError, errors.Conflict),
    (GeometryError, errors.Unprocessable), (StoreError, errors.Unavailable),
])
def test_each_error_is_of_one_kind(cls: type[Exception], kind: type[Exception]) -> None:
    assert issubclass(cls, kind)


def test_builtin_bases_kept_for_callers_that_catch_them() -> None:
    assert issubclass(errors.BadInput, ValueError) and issubclass(errors.Unprocessable, ValueError)
    assert issubclass(errors.NotFound, KeyError) and issubclass(UnknownColumnError, KeyError)
    assert issubclass(errors.Unavailable, RuntimeError)


def test_not_found_message_is_not_quoted_like_a_key_error() -> None:
    assert str(errors.NotFound("no layer 'x'")) == "no layer 'x'"
    assert str(errors.NotFound()) == "not found"


def test_details_carry_what_a_client_can_act_on() -> None:
    assert errors.BadInput("x").details() == {}
    assert UnknownLandUseError("zoo", ["school"]).details() == {"land_use": "zoo", "known": ["school"]}
    assert GeometryError("self-intersection", (116.4, 39.9)).details() == {
        "problem": "self-intersection", "location": (116.4, 39.9)}
