"""Measuring detectors on labelled data: metrics, dataset readers and runners.

``metrics`` holds the pure scoring; ``oscd``, ``roi`` and ``pairs`` read one benchmark layout
each and run a :class:`models.base.Detector` over every image of it; ``runner`` runs a detector
over one whole in-memory pair the way the pipeline would (``fit_scene`` then ``detect``).
"""
from __future__ import annotations
