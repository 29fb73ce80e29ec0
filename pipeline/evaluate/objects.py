"""Object-level scores, as a patrol feels them: patches that hold change, change objects found.

* **Patch precision**: the share of the product's patches (8-connected objects of the cleaned
  change mask, :func:`pipeline.patches.label_patches`) that touch labelled change, i.e. of the
  leads an enforcement team would drive to, how many find something.
* **Object recall**: the share of labelled change objects (8-connected objects of the reference
  at or above the minimum mapping unit) that at least one patch touches.

Pooled over several images by summing the counts (micro averaging), like the pixel scores.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from pipeline.patches import label_patches


@dataclass(frozen=True)
class ObjectCounts:
    """Patches (and those touching change) and reference objects >= MMU (and those touched)."""

    patches: int = 0
    patches_on_change: int = 0
    objects: int = 0
    objects_found: int = 0

    def __add__(self, other: ObjectCounts) -> ObjectCounts:
        return ObjectCounts(self.patches + other.patches, self.patches_on_change + other.patches_on_change,
                            self.objects + other.objects, self.objects_found + other.objects_found)

    @property
    def patch_precision(self) -> float:
        return self.patches_on_change / self.patches if self.patches else 0.0

    @property
    def object_recall(self) -> float:
        return self.objects_found / self.objects if self.objects else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {"patch_precision": round(self.patch_precision, 4), "object_recall": round(self.object_recall, 4),
                "patches": self.patches, "patches_on_change": self.patches_on_change,
                "objects": self.objects, "objects_found": self.objects_found}


def _touched(labels: np.ndarray, n: int, other: np.ndarray) -> np.ndarray:
    """Per label 1..n: does any of its pixels lie on ``other``?"""
    if n == 0:
        return np.zeros(0, bool)
    hits = ndimage.maximum(np.asarray(other, np.uint8), labels, index=np.arange(1, n + 1))
    return np.asarray(hits, bool)


def object_counts(patches: np.ndarray, truth: np.ndarray, mmu_pixels: int) -> ObjectCounts:
    """Counts for one image: ``patches`` the product's cleaned mask, ``truth`` the reference mask;
    reference objects smaller than ``mmu_pixels`` are not counted (the product cannot report them)."""
    if patches.shape != truth.shape:
        raise ValueError(f"patch mask shape {patches.shape} != reference shape {truth.shape}")
    p_lab, n_p = label_patches(patches)
    t_lab, n_t = label_patches(truth)
    sizes = np.bincount(t_lab.ravel(), minlength=n_t + 1)[1:]
    big = sizes >= max(int(mmu_pixels), 1)
    found = _touched(t_lab, n_t, patches)
    return ObjectCounts(patches=n_p, patches_on_change=int(_touched(p_lab, n_p, truth).sum()),
                        objects=int(big.sum()), objects_found=int((found & big).sum()))


def pooled_objects(counts: Iterable[ObjectCounts]) -> ObjectCounts:
    total = ObjectCounts()
    for c in counts:
        total = total + c
    return total
