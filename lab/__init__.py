"""Research around the detectors: training, cross-validation drivers, candidates and their records.

Not part of the installed package (``pyproject.toml`` installs pipeline, flows and models only);
run from a source checkout. ``landpatrol train ...`` imports from here. See lab/README.md.
"""
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
"""Superseded and rejected models kept so their records can be re-run (gbm v2, v3, v5; cnn v2)."""
