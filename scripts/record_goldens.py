"""Re-record the generation goldens (tests/fixtures/golden/*.json) from the current code.

.venv/bin/python scripts/record_goldens.py                       # every golden
.venv/bin/python scripts/record_goldens.py bach_chorales_seed5   # only this one

Only for a change meant to change the music (the bundled models, the sampler's defaults): the
goldens hold one token a line, so `git diff tests/fixtures/golden/` shows what moved; read it
before committing. The recipes are in tests/core/_golden.py;
tests/core/generation/test_generator.py checks them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.core._golden import RECIPES, record  # noqa: E402


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(RECIPES))
    if unknown:
        print(f"unknown golden {', '.join(unknown)}; choose from {', '.join(RECIPES)}")
        return 2
    for name in names or RECIPES:
        print(f"recorded {record(name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
