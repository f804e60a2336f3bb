"""Where the front end reads source text: the disk, or an editor's unsaved buffers over it.

The language server hands the compiler its open documents, so a file imported by the one
being edited is checked as it is in the editor, not as it was last saved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class SourceProvider(Protocol):
    def read(self, path: str) -> str:
        """The text of `path`; OSError or UnicodeDecodeError when it cannot be read."""
        ...


class DiskSources:
    """Files as saved, read as UTF-8."""

    def read(self, path: str) -> str:
        return Path(path).read_text(encoding="utf-8")


DISK = DiskSources()


@dataclass(frozen=True)
class BufferSources:
    """Open buffers (path -> text) first, then `fallback` for every other file; a path is
    matched whatever its spelling (`a/../b.score`, a symlink)."""

    buffers: Mapping[str, str]
    fallback: SourceProvider = DISK
    _by_file: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_file = {os.path.realpath(path): text for path, text in self.buffers.items()}
        object.__setattr__(self, "_by_file", by_file)

    def read(self, path: str) -> str:
        text = self._by_file.get(os.path.realpath(path))
        return self.fallback.read(path) if text is None else text
