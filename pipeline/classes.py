"""Change classes a detector assigns per pixel and a lead shows to a field team."""
from __future__ import annotations

from enum import IntEnum


class ChangeClass(IntEnum):
    """Stored as uint8 in class rasters; ``0`` is 'no change'."""

    NONE = 0
    BARE_SOIL = 1          # vegetation to bare soil: digging, soil taking, land levelling, quarrying
    CONSTRUCTION = 2       # new structure / built-up: houses, sheds, kilns, hardened ground
    WATER = 3              # new water: ponds, flooded pits
    VEGETATION_LOSS = 4    # vegetation lost without a clearer signature (clearing, burning)
    OTHER = 5              # changed, none of the above

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def label_zh(self) -> str:
        return _ZH[self]

    @property
    def label_en(self) -> str:
        return _EN[self]

    @classmethod
    def from_key(cls, key: str) -> ChangeClass:
        return cls[key.upper()]


_ZH = {
    ChangeClass.NONE: "无变化",
    ChangeClass.BARE_SOIL: "植被变裸土（挖掘/取土/推填）",
    ChangeClass.CONSTRUCTION: "新增建筑/硬化",
    ChangeClass.WATER: "新增水面（坑塘）",
    ChangeClass.VEGETATION_LOSS: "植被减少",
    ChangeClass.OTHER: "其他变化",
}
_EN = {
    ChangeClass.NONE: "no change",
    ChangeClass.BARE_SOIL: "vegetation to bare soil (digging, soil taking, levelling)",
    ChangeClass.CONSTRUCTION: "new structure / built-up",
    ChangeClass.WATER: "new water",
    ChangeClass.VEGETATION_LOSS: "vegetation loss",
    ChangeClass.OTHER: "other change",
}

# 1 mu (亩) in square metres
MU_M2 = 666.67


def m2_to_mu(area_m2: float) -> float:
    return area_m2 / MU_M2
