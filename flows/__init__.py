"""Prefect flows: thin wrappers over :mod:`pipeline.runner`; no pipeline logic lives here."""
