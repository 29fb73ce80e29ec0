"""Object-level scores (pipeline/evaluate/objects.py) on small hand-made masks."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.evaluate.objects import ObjectCounts, object_counts, pooled_objects


def test_patch_precision_and_object_recall_by_hand() -> None:
    truth = np.zeros((20, 20), bool)
    truth[2:6, 2:6] = True        # object A, 16 px: touched by patch 1
    truth[10:14, 10:14] = True    # object B, 16 px: missed
    truth[18, 18] = True          # object C, 1 px: below the MMU, not counted
    patches = np.zeros_like(truth)
    patches[5:8, 5:8] = True      # patch 1 touches A by one corner pixel
    patches[15:17, 0:3] = True    # patch 2 on nothing
    patches[18:20, 17:20] = True  # patch 3 touches C (counts for precision, C is not an object)
    c = object_counts(patches, truth, mmu_pixels=4)
    assert c == ObjectCounts(patches=3, patches_on_change=2, objects=2, objects_found=1)
    assert c.patch_precision == pytest.approx(2 / 3) and c.object_recall == pytest.approx(0.5)


def test_diagonal_pixels_are_one_object_and_pooling_sums_counts() -> None:
    truth = np.eye(5, dtype=bool)                 # 8-connected: one object of 5 px
    patches = np.zeros_like(truth)
    patches[4, 4] = True
    one = object_counts(patches, truth, mmu_pixels=5)
    assert one == ObjectCounts(1, 1, 1, 1)
    empty = object_counts(np.zeros_like(truth), truth, mmu_pixels=6)   # object below MMU 6
    assert empty == ObjectCounts(0, 0, 0, 0) and empty.patch_precision == 0.0 == empty.object_recall
    total = pooled_objects([one, empty, ObjectCounts(3, 1, 4, 2)])
    assert total == ObjectCounts(4, 2, 5, 3) and total.to_dict()["patch_precision"] == 0.5
    with pytest.raises(ValueError):
        object_counts(patches, truth[:4], 1)
