"""Tunesmith's product logic. Never imports streamlit (tests/core/test_boundaries.py checks)."""
