"""One module per benchmark: `run() -> dict[str, float | str]` (see core/commands/bench.py)."""
