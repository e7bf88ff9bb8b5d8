"""Load onnxruntime before usearch, whichever of them a process asks for first.

usearch's extension (2.26) carries its own copy of libstdc++'s locale facets;
once it is loaded, onnxruntime's (1.31) static initialisers pick up the wrong
``std::codecvt`` facet id and the process dies with SIGSEGV inside
``import onnxruntime``. The other order works. A process that has loaded
usearch (the index's vector stores) and then starts a model (the visual
analyzer, the text embedder) would crash, so ``pixsearch/__init__.py`` installs
this hook: the first import of usearch imports onnxruntime first. Processes
that never touch usearch pay nothing.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _OnnxRuntimeFirst(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "usearch":
            sys.meta_path.remove(self)
            with contextlib.suppress(ImportError):  # no onnxruntime: nothing can crash
                import onnxruntime  # noqa: F401
        return None  # let the ordinary finders import usearch itself


def install() -> None:
    """Install the hook once, unless usearch is already loaded (then it is too late)."""
    if "usearch" in sys.modules or "onnxruntime" in sys.modules:
        return
    if not any(isinstance(f, _OnnxRuntimeFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _OnnxRuntimeFirst())
