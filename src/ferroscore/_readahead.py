"""Read-ahead of a backed matrix: one thread reads blocks of samples in order while the scoring
threads compute, so the storage is kept busy instead of waiting for the compute (and the compute
for the storage).

At most ``depth`` blocks are held at a time: a block's slot is taken before it is read and given
back once its scores are computed, so memory stays bounded whatever the matrix's size.
"""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any


class ReadAhead:
    """Blocks ``slices`` of ``expression`` (a lazy :class:`~ferroscore.matrix.Expression`),
    read and validated by :meth:`Expression.rows` in one background thread.

    Parameters
    ----------
    expression
        The backed expression.
    slices
        Sample ranges, read in this order.
    depth
        Most blocks read but not yet released.
    contiguous
        Passed to :meth:`Expression.rows`.
    """

    def __init__(self, expression: Any, slices: list[slice], depth: int, *,
                 contiguous: bool) -> None:
        self._depth = depth
        self._slots = threading.Semaphore(depth)
        self._closed = threading.Event()
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ferroscore-read")
        self._futures: list[Future | None] = [
            self._reader.submit(self._read, expression, rows, contiguous) for rows in slices]

    def _read(self, expression: Any, rows: slice, contiguous: bool) -> Any:
        self._slots.acquire()
        if self._closed.is_set():
            raise CancelledError
        return expression.rows(rows, contiguous=contiguous)

    def take(self, i: int) -> Any:
        """Block ``i`` (waits for it; re-raises a read or validation error)."""
        future = self._futures[i]
        if future is None:
            raise RuntimeError(f"block {i} was already released")
        return future.result()

    def release(self, i: int) -> None:
        """Block ``i`` is done with: its memory and its slot go back."""
        self._futures[i] = None
        self._slots.release()

    def close(self) -> None:
        """Stop reading: cancel the reads not started, wake a reader waiting for a slot, and
        wait for the reader thread."""
        self._closed.set()
        for future in self._futures:
            if future is not None:
                future.cancel()
        self._slots.release(self._depth + 1)
        self._reader.shutdown(wait=True)
