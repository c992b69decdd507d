"""Gradio, imported without its stub writer.

On every import, Gradio 6 rewrites the type stubs of its ~80 components: `component_meta.ComponentMeta` calls
`create_or_modify_pyi` for each component class, which parses the class's source file and its `.pyi` with `ast`
and writes the `.pyi` into site-packages when they differ. That is 2.9 of the 5.8 CPU-seconds of `import gradio`
(a third of `advisor serve`'s start), and a write into the installed package at run time. The stubs serve
Gradio's own developers; a hook replaces the function with a no-op as its module loads, before any component
class is made. `tests/unit/test_ui_server.py` fails if an upgrade renames the function or stops calling it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import logging
import sys
from types import ModuleType

log = logging.getLogger(__name__)

STUB_MODULE, STUB_WRITER = "gradio.component_meta", "create_or_modify_pyi"


def _no_stubs(*args: object, **kwargs: object) -> None:
    """What Gradio's stub writer does here: nothing."""


class _SkipStubs(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as Python would, and swaps its stub writer out right after it runs."""

    def find_spec(self, name, path, target=None):
        if name != STUB_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            if hasattr(module, STUB_WRITER):
                setattr(module, STUB_WRITER, _no_stubs)
            else:
                log.warning("this Gradio has no %s.%s: its import rewrites its stubs", STUB_MODULE, STUB_WRITER)

        spec.loader.exec_module = exec_module
        return spec


def load_gradio() -> ModuleType:
    """`import gradio`, without the stub writer when this is the process's first import of it."""
    if "gradio" not in sys.modules:
        finder = _SkipStubs()
        sys.meta_path.insert(0, finder)
        try:
            importlib.import_module("gradio")
        finally:
            sys.meta_path.remove(finder)
    return sys.modules["gradio"]
