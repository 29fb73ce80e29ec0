"""Research around the detectors: training, cross-validation drivers, candidates and their records.

Not part of the installed package (``pyproject.toml`` installs pipeline, flows and models only);
run from a source checkout. ``landpatrol train ...`` imports from here. See lab/README.md.
"""
