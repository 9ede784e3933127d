"""Shared by the AppTest page tests."""

import sys

import pytest


@pytest.fixture(autouse=True)
def _main_module_restored(monkeypatch):
    """AppTest leaves its temporary script as `__main__`; a process pool started later (the
    parse cache's, by "spawn") would run that script in every worker and break."""
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
