"""References to pydantic models that import nothing until a model is used.

An endpoint declares its routes with model references (``models = lazy.models("aksio.study.api")``,
then ``query=models.CardListQuery``): the module of models, and pydantic with it, is imported
only when a request needs a model (a body to validate, a query the fast path of
:mod:`aksio.params` hands over) or when the OpenAPI document is built. A function whose
first request is a read therefore answers without importing pydantic (cold start).

:func:`once` makes a per-instance value (a client) exactly once, thread-safely: functions serve
``concurrency`` requests at a time on threads.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import BaseModel

T = TypeVar("T")


class ModelRef:
    """``module:name`` of a model; calling it or reading an attribute resolves it."""

    __slots__ = ("_model", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self._model: type[BaseModel] | None = None

    def resolve(self) -> type[BaseModel]:
        if self._model is None:
            self._model = getattr(importlib.import_module(self.module), self.name)
        return self._model

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.resolve(), attr)

    def __repr__(self) -> str:
        return f"ModelRef({self.module}:{self.name})"


class Models:
    """The models of one module, by reference."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> ModelRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return ModelRef(self._module, name)


def models(module: str) -> Any:
    """References to the models of ``module`` (typed ``Any``: endpoints import the module
    itself under ``TYPE_CHECKING`` for the type checker)."""
    return Models(module)


def resolve(model: Any) -> Any:
    """A model class from a class or a :class:`ModelRef` (None stays None)."""
    return model.resolve() if isinstance(model, ModelRef) else model


class Once(Generic[T]):
    """A value made by ``make()`` on first use, exactly once per process even when many
    threads ask at the same moment (``functools.lru_cache`` may call ``make`` once per racing
    thread: two clients, two connection pools). ``cache_clear()`` forgets it (tests)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._made = False
        self._value: T | None = None
        functools.update_wrapper(self, make)

    def __call__(self) -> T:
        if not self._made:
            with self._lock:
                if not self._made:
                    self._value = self._make()
                    self._made = True
        return self._value  # type: ignore[return-value]

    def cache_clear(self) -> None:
        with self._lock:
            self._made, self._value = False, None


def once(make: Callable[[], T]) -> Once[T]:
    """Decorator: see :class:`Once`."""
    return Once(make)
