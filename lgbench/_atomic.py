"""Files written whole or not at all: summary.json, check.json, junit.xml, report.html.

A reader (a CI server, a person, ``lgbench report``) never sees half a file: the data goes to
a temporary name beside the target, which is then renamed over it; if anything fails, the
temporary file is removed and the old file, if any, stays as it was.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path``, creating its folder; returns the path.

    Raises :class:`OSError` when the folder cannot be written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and thread, so two writers of one file never share a temporary.
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        temp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target
