"""One way to choose a component by name: storage backends, analyzers, embedders.

A registry maps names to ``"module:factory"`` paths and imports a factory only
when its name is first asked for, so an optional dependency costs nothing until
it is used (as img2dataset picks a distributor by string). An unknown name, or
a factory whose module cannot be imported, raises the registry's own error
naming what is known: never a silent fallback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Unavailable(RuntimeError):
    """A named component cannot be built here (unknown name, missing package or model)."""


class Registry(Generic[T]):
    """Names of one kind of component, each built by a factory found on first use."""

    def __init__(
        self,
        kind: str,
        entries: dict[str, str],
        *,
        error: type[Unavailable] = Unavailable,
    ) -> None:
        self.kind = kind
        self._entries = dict(entries)
        self._error = error

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def register(self, name: str, target: str) -> None:
        """Add or replace ``name`` → ``"module:factory"`` (a plug-in's own component)."""
        if ":" not in target:
            raise ValueError(f"{self.kind} {name!r}: target must be 'module:factory'")
        self._entries[name] = target

    def target(self, name: str) -> str:
        """Where ``name``'s factory lives, ``"module:factory"``."""
        if name not in self._entries:
            known = ", ".join(self) or "none"
            raise self._error(f"unknown {self.kind} {name!r} (known: {known})")
        return self._entries[name]

    def factory(self, name: str) -> Callable[..., T]:
        module_name, attribute = self.target(name).split(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise self._error(f"{self.kind} {name!r} cannot load: {exc}") from exc
        factory: Callable[..., T] = getattr(module, attribute)
        return factory

    def create(self, name: str, **options: Any) -> T:
        """A new component ``name`` built with ``options``.

        Import errors and missing files (OSError) while building become the
        registry's error: the component cannot run here.
        """
        factory = self.factory(name)
        try:
            return factory(**options)
        except (ImportError, OSError) as exc:
            raise self._error(f"{self.kind} {name!r} cannot load: {exc}") from exc
