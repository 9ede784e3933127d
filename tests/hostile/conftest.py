"""Hostile inputs: each case of a probe by a hostile visitor or a careless operator, replayed.

Every case is bounded in time and memory with `within`: the refusal must come before the work
it refuses costs more than a request may (the goal: 5 s of CPU, 300 MB). The inputs are made
small (a few MB at most) by `tests/hostile/inputs.py`; the limits they meet are lowered by the
named settings where the real ones would need real-sized inputs.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# What one request may cost before it is refused (issue: "No single request raises server
# memory by more than 300 MB or takes more than 5 s of CPU before it is refused").
REQUEST_CPU_S = 5.0
REQUEST_MB = 300.0


@dataclass
class Cost:
    cpu_s: float = 0.0
    peak_mb: float = 0.0


@contextmanager
def within(*, cpu_s: float = REQUEST_CPU_S, mb: float = REQUEST_MB) -> Iterator[Cost]:
    """Fail when the block uses more than `cpu_s` of this process's CPU or allocates more than
    `mb` at its peak (Python and numpy allocations, which tracemalloc sees; zlib's and pretty_midi's
    buffers are Python objects too)."""
    cost = Cost()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    start = time.process_time()
    try:
        yield cost
    finally:
        cost.cpu_s = time.process_time() - start
        cost.peak_mb = (tracemalloc.get_traced_memory()[1] - base) / 1e6
        if not was_tracing:
            tracemalloc.stop()
    assert cost.cpu_s <= cpu_s, f"used {cost.cpu_s:.1f} s of CPU, more than {cpu_s} s"
    assert cost.peak_mb <= mb, f"allocated {cost.peak_mb:.0f} MB at its peak, more than {mb} MB"


# A fresh data directory for a case: `isolated_data_dir` in tests/conftest.py.
