"""Tunesmith's product logic. Never imports streamlit (tests/core/test_boundaries.py checks)."""

import contextlib
import io

# pyfluidsynth prints "'fluidsynth' was found at ..." on stdout when it is imported with the CI
# environment variable set, and pretty_midi imports it. That line would corrupt the one JSON
# object a `--json` command prints, so the first import happens here, with stdout captured.
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(ImportError, OSError):
    import fluidsynth  # noqa: F401
