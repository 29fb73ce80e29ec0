"""The web app for analysts, supervisors and patrol members (``landpatrol serve``).

Every write goes through the ledger's lifecycle/patrol/attachment functions, so it lands in the
event record; what a user may see is decided in :mod:`pipeline.web.access` and nowhere else.
"""
from __future__ import annotations
