"""Fixtures shared with the product's tests."""
from __future__ import annotations

from tests.test_gbm import tiny_detector  # noqa: F401 - a module-scoped fixture, re-used here
