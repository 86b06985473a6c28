"""Processors by task name. Imported lazily: a container loads only the one it runs."""

from __future__ import annotations

import importlib

from file_processing.context import ProcessorError

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing at every container start
if TYPE_CHECKING:
    from collections.abc import Callable

    from file_processing.context import JobContext

    Processor = Callable[[JobContext], list[str]]

_MODULES = {
    "copy_rename": "file_processing.processors.copy_rename",
    "compress": "file_processing.processors.compress",
    "sleep": "file_processing.processors.sleep",
}


def load_processor(task: str) -> Processor:
    module = _MODULES.get(task)
    if module is None:
        raise ProcessorError("UnknownTask", f"this container has no processor for task {task!r}",
                             f"It knows: {', '.join(sorted(_MODULES))}. Is the image up to date?")
    return importlib.import_module(module).run
