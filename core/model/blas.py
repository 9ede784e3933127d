"""numpy's BLAS on one thread while the network is stepped: `with one_blas_thread(): ...`.

A step of the network is a few small matrix-vector products. A second BLAS thread makes one
about a third faster on an idle machine, and many times slower on a busy one, because each
product then waits for a thread that another process holds: on Home, with the browser and the
page on the two cores, a 300-token tune took 0.4-0.85 s to write with two threads, about 0.1 s
with one; 20 evaluation pieces took 95 s with two threads while another process used the
second core, 6 s with one, and the Train page's style check 17 s against 2 s. A server is
busy when it matters, so every generation, evaluation and harmonization steps on one thread
(`Generator.generate` holds the limit).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _OneBlasThread:
    """numpy's BLAS on one thread while any user of it runs in this process.

    threadpoolctl's limit is process-wide, not per thread, so users running at once (two
    visitors, or a page's tune made ahead while another plays) share one limit: set by the
    first to start, lifted when the last ends. Each restoring its own would lift it under
    another still running (measured: 44 s instead of 8 for an evaluation).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._limit: Any = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        # threadpoolctl looks up the loaded libraries each time (0.5 ms), so a BLAS that was
        # loaded since (scipy's own) is held too.
        from threadpoolctl import threadpool_limits

        with self._lock:
            if not self._users:
                self._limit = threadpool_limits(limits=1, user_api="blas")
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if not self._users:
                    self._limit.restore_original_limits()
                    self._limit = None


one_blas_thread = _OneBlasThread()
