"""Confusion counts and the scores derived from them.

Pooled scores over several images are computed from *summed* confusion counts (micro
averaging), never by averaging per-image F1: a city with 400 changed pixels must not weigh as
much as one with 20 000.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Confusion:
    """Pixel counts of a binary change mask against a reference."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def from_masks(
        cls, predicted: np.ndarray, truth: np.ndarray, scored: np.ndarray | None = None
    ) -> Confusion:
        """Count over pixels where ``scored`` is True (all pixels when None)."""
        if predicted.shape != truth.shape:
            raise ValueError(f"prediction shape {predicted.shape} != reference shape {truth.shape}")
        p = predicted.astype(bool)
        t = truth.astype(bool)
        s = np.ones(p.shape, bool) if scored is None else scored.astype(bool)
        return cls(
            tp=int(np.count_nonzero(p & t & s)),
            fp=int(np.count_nonzero(p & ~t & s)),
            fn=int(np.count_nonzero(~p & t & s)),
            tn=int(np.count_nonzero(~p & ~t & s)),
        )

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def iou(self) -> float:
        return _ratio(self.tp, self.tp + self.fp + self.fn)

    @property
    def false_alarm_rate(self) -> float:
        """Share of reference-unchanged pixels called changed."""
        return _ratio(self.fp, self.fp + self.tn)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "iou": round(self.iou, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


def pooled(confusions: Iterable[Confusion]) -> Confusion:
    """Sum of confusion counts (the micro-averaged pool)."""
    total = Confusion()
    for c in confusions:
        total = total + c
    return total


def _ratio(num: int, den: int) -> float:
    """``num / den``, 0.0 when the denominator is 0 (nothing to find and nothing called)."""
    return float(num) / den if den else 0.0
