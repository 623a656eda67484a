"""A history as a set of files: the live ``history.jsonl`` and its rotated segments.

A writer that rotates (``HistoryWriter.open(..., rotate_bytes=N)``) leaves, beside the live
file ``<stem>.jsonl``, numbered segments ``<stem>-0001.jsonl``, ``<stem>-0002.jsonl`` … each
compressed to ``<stem>-NNNN.jsonl.gz`` once complete. :func:`find_history_sets` turns what a
user names (a run folder, a file, a list of files, plain and ``.gz`` mixed) into
:class:`HistorySet` s: the files of one logical history in order. :func:`iter_lines` reads one
file, plain or gzip, line by line in bounded memory and tolerates a cut-short gzip stream.

Failure modes: :class:`~lgbench.errors.UsageError` for a file that cannot be opened, a folder
with no history in it, and a segment missing from the middle of a set (it names the file).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Final, final

from lgbench.errors import UsageError

__all__ = [
    "HistoryFile",
    "HistorySet",
    "LineReader",
    "find_history_sets",
    "iter_lines",
    "segment_path",
]

_SEGMENT: Final = re.compile(r"^(?P<stem>.+)-(?P<number>\d{4,})\.jsonl(?P<gz>\.gz)?$")
_LIVE: Final = re.compile(r"^(?P<stem>.+)\.jsonl$")
_CHUNK: Final = 1 << 16


def segment_path(live: Path, number: int, *, compressed: bool = False) -> Path:
    """The path of segment ``number`` (from 1) of the history whose live file is ``live``."""
    stem = live.name[: -len(".jsonl")] if live.name.endswith(".jsonl") else live.name
    return live.with_name(f"{stem}-{number:04d}.jsonl{'.gz' if compressed else ''}")


@final
@dataclass(frozen=True, slots=True)
class HistoryFile:
    """One file of a set: a numbered segment, or the live file (``live``)."""

    path: Path
    number: int
    live: bool = False

    @property
    def compressed(self) -> bool:
        return self.path.name.endswith(".gz")


@final
@dataclass(frozen=True, slots=True)
class HistorySet:
    """The files of one logical history, in order; ``name`` is what reports call it.

    ``issues`` notes what was set aside (a segment present both plain and compressed: the
    plain one is read, it is complete by construction).
    """

    name: str
    files: tuple[HistoryFile, ...]
    issues: tuple[str, ...] = ()


@final
class LineReader:
    """Iterates a file's lines as bytes (``\\n`` kept when present), plain or gzip.

    After iteration, ``damage`` says why a gzip stream ended early (cut short, corrupt),
    or is None; the lines decoded before the damage were all yielded, the last one
    possibly without its newline.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.damage: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            stream = self.path.open("rb")
        except OSError as exc:
            raise UsageError(f"cannot read history {self.path}: {exc.strerror or exc}") from None
        with stream:
            chunks = self._chunks(stream) if self.path.name.endswith(".gz") else None
            if chunks is None:
                try:
                    yield from stream
                except OSError as exc:
                    raise UsageError(
                        f"cannot read history {self.path}: {exc.strerror or exc}"
                    ) from None
                return
            tail = b""
            for chunk in chunks:
                data = tail + chunk
                start = 0
                while (end := data.find(b"\n", start)) >= 0:
                    yield data[start : end + 1]
                    start = end + 1
                tail = data[start:]
            if tail:
                yield tail

    def _chunks(self, stream: Any) -> Iterator[bytes]:
        """Decompressed chunks of every gzip member; stops (with ``damage``) at a bad tail."""
        decompressor = zlib.decompressobj(wbits=31)
        started = False
        empty = True
        while True:
            try:
                raw = stream.read(_CHUNK)
            except OSError as exc:
                raise UsageError(
                    f"cannot read history {self.path}: {exc.strerror or exc}"
                ) from None
            if not raw:
                if empty:
                    self.damage = f"{self.path}: the compressed file is empty"
                elif started and not decompressor.eof:
                    self.damage = f"{self.path}: the compressed stream is cut short"
                return
            empty = False
            while raw:
                started = True
                try:
                    out = decompressor.decompress(raw)
                except zlib.error as exc:
                    self.damage = f"{self.path}: the compressed stream is damaged ({exc})"
                    return
                if out:
                    yield out
                if not decompressor.eof:
                    break
                # A member ended: what follows may be another member (gzip allows several).
                raw = decompressor.unused_data
                decompressor = zlib.decompressobj(wbits=31)
                started = bool(raw)


def iter_lines(path: Path) -> LineReader:
    """A :class:`LineReader` over ``path`` (``.gz``: decompressed as it goes)."""
    return LineReader(path)


def _first_line(path: Path) -> dict[str, Any] | None:
    """The header of ``path`` if its first line is one (None when unreadable)."""
    reader = iter_lines(path)
    for raw in reader:
        try:
            obj = json.loads(raw)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) and obj.get("type") == "header" else None
    return None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def find_history_sets(
    source: str | PathLike[str] | Sequence[str | PathLike[str]],
) -> list[HistorySet]:
    """The logical histories in ``source``: a run folder, a file, or a list of both.

    A folder contributes its ``history*.jsonl`` and ``history*.jsonl.gz`` files. Files are
    grouped by folder and stem (``history-0003.jsonl.gz`` belongs with ``history.jsonl``); a
    file named like a segment whose header says nothing of segments stands alone. Sets come
    in the order they were first named (a folder's sorted by name).

    Raises:
        UsageError: nothing given, a path that does not exist, a folder without a history,
            or a segment missing before the last one found (the message names it).
    """
    sources: list[Path] = (
        [Path(source)] if isinstance(source, str | PathLike) else [Path(s) for s in source]
    )
    if not sources:
        raise UsageError("no history file given")
    paths: list[Path] = []
    for item in sources:
        if item.is_dir():
            found = sorted(
                {*item.glob("history*.jsonl"), *item.glob("history*.jsonl.gz")},
                key=lambda p: p.name,
            )
            if not found:
                raise UsageError(f"no history file (history*.jsonl) in {item}")
            paths.extend(found)
        elif item.exists():
            paths.extend(_with_earlier_segments(item))
        else:
            raise UsageError(f"cannot read history {item}: No such file or directory")
    groups: dict[tuple[Path, str], list[tuple[Path, int | None]]] = {}
    for path in dict.fromkeys(paths):  # each file once, first-named order
        key, number = _classify(path)
        groups.setdefault(key, []).append((path, number))
    return [_assemble(key, members) for key, members in groups.items()]


def _with_earlier_segments(path: Path) -> list[Path]:
    """A live file named alone brings the segments it continues from its folder."""
    live = _LIVE.match(path.name)
    if live is None or _SEGMENT.match(path.name) is not None:
        return [path]
    number = _number((_first_line(path) or {}).get("segment"))
    if number is None or number == 1:
        return [path]
    stem = re.escape(live["stem"])
    pattern = re.compile(rf"^{stem}-\d{{4,}}\.jsonl(\.gz)?$")
    earlier = sorted(p for p in path.parent.iterdir() if pattern.match(p.name))
    return [*earlier, path]


def _classify(path: Path) -> tuple[tuple[Path, str], int | None]:
    """(folder, stem) and the segment number (None: a live or stand-alone file)."""
    match = _SEGMENT.match(path.name)
    if match is not None:
        header = _first_line(path)
        # A damaged header still leaves the name to go by; a header without segments
        # means a file that merely ends in digits.
        if header is None or _number(header.get("segment")) is not None:
            return (path.parent, match["stem"]), int(match["number"])
    live = _LIVE.match(path.name)
    stem = live["stem"] if live is not None else path.name
    return (path.parent, stem), None


def _assemble(key: tuple[Path, str], members: list[tuple[Path, int | None]]) -> HistorySet:
    folder, stem = key
    issues: list[str] = []
    numbered: dict[int, Path] = {}
    lives: list[Path] = []
    for path, number in members:
        if number is None:
            lives.append(path)
            continue
        other = numbered.get(number)
        if other is None:
            numbered[number] = path
            continue
        # Both the plain segment and its .gz: the compression did not finish removing the
        # plain one, which is complete by construction; the .gz may not be.
        plain, gz = (other, path) if path.name.endswith(".gz") else (path, other)
        numbered[number] = plain
        issues.append(f"{gz}: {plain.name} is read instead (both present)")
    if len(lives) > 1:  # several stand-alone files with one stem: several histories
        raise UsageError(f"several live files for one history: {', '.join(map(str, lives))}")
    files = [HistoryFile(path, number) for number, path in sorted(numbered.items())]
    if lives:
        header = _first_line(lives[0]) or {}
        given = _number(header.get("segment"))
        last = max(numbered, default=0)
        files.append(HistoryFile(lives[0], given if given is not None else last + 1, live=True))
    expected = 1
    for entry in files:
        if entry.number < expected:
            raise UsageError(
                f"{entry.path}: segment {entry.number} appears twice in the history "
                f"{folder / stem}.jsonl"
            )
        if entry.number > expected:
            missing = segment_path(folder / f"{stem}.jsonl", expected, compressed=True)
            raise UsageError(
                f"history segment {missing.name} (or {missing.name[:-3]}) is missing from "
                f"{folder}: the set has {', '.join(f.path.name for f in files)}"
            )
        expected = entry.number + 1
    name = str(lives[0]) if lives else str(files[-1].path)
    return HistorySet(name=name, files=tuple(files), issues=tuple(issues))
