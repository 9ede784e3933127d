"""The encoding config (core.tokens.config) refuses bad settings."""

import pytest

from core.tokens.config import EncodingConfig


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        EncodingConfig(steps_per_quarter=5)
