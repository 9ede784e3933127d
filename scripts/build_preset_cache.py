"""Write the shipped parse cache of the built-in collections, core/data/preset_cache/ (checked in).

A fresh server (Streamlit Community Cloud runs no setup step) then reads each built-in
collection without parsing it with music21. Rerun after a PARSER_VERSION bump, a change to the
default grid, a new preset or a music21 upgrade; tests/core/data/test_parse_cache.py says when.
Deterministic: the same corpus files give the same bytes.

.venv/bin/python scripts/build_preset_cache.py [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data.datasets import COLLECTIONS, source_files  # noqa: E402
from core.data.parse_cache import (  # noqa: E402
    PRESET_CACHE_DIR,
    parse_workers,
    preset_cache_path,
    write_preset_cache,
)
from core.tokens.config import EncodingConfig  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=parse_workers())
    args = parser.parse_args()
    steps_per_quarter = EncodingConfig().steps_per_quarter
    path = preset_cache_path(steps_per_quarter)
    for stale in PRESET_CACHE_DIR.glob("*.jsonl.gz"):
        if stale != path:
            stale.unlink()  # another version or grid: it would never be read again
            print(f"removed {stale.name}")
    started = time.monotonic()

    def on_progress(done: int, total: int, name: str) -> None:
        if done % 100 == 0 or done == total:
            print(f"  {done}/{total} files parsed ({time.monotonic() - started:.0f} s)", flush=True)

    write_preset_cache(
        source_files(list(COLLECTIONS)),
        steps_per_quarter=steps_per_quarter,
        workers=args.workers,
        on_progress=on_progress,
    )
    size_kb = path.stat().st_size / 1024
    print(f"{path.relative_to(ROOT)}: {size_kb:.0f} KB for {', '.join(COLLECTIONS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
