"""Which interface a call came from, so that a message can name the fix in the user's terms.

Library code raises the same errors for every caller; only the hint differs: a Python keyword
for API users (``na='drop_genes'``), a flag for command-line users (``--na drop_genes``). The
command line wraps its work in :func:`command_line`; everything else is the API.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["command_line", "hint", "in_command_line", "warn"]

_PACKAGE = str(Path(__file__).resolve().parent)

_STATE = {"cli": False}


@contextmanager
def command_line() -> Iterator[None]:
    """Mark the enclosed calls as coming from the ``ferroscore`` command line."""
    previous = _STATE["cli"]
    _STATE["cli"] = True
    try:
        yield
    finally:
        _STATE["cli"] = previous


def in_command_line() -> bool:
    """True inside :func:`command_line`."""
    return _STATE["cli"]


def hint(api: str, cli: str) -> str:
    """The fix as the current interface spells it: ``cli`` on the command line, else ``api``."""
    return cli if _STATE["cli"] else api


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside ferroscore (the user's line),
    whatever the depth of the call inside the package."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
