"""The `Skeleton` type: joint names, limbs and left/right flip pairs, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field


def mirror_name(name: str) -> str:
    """The joint name on the other side of the body (``left_knee`` <-> ``right_knee``)."""
    tokens = name.split("_")
    swap = {"left": "right", "right": "left"}
    return "_".join(swap.get(t, t) for t in tokens)


@dataclass(frozen=True)
class Skeleton:
    """A keypoint layout. Joint names follow one shared vocabulary (``left_shoulder``, ``head_top``...)
    so that joints with the same meaning have the same name in every skeleton."""

    name: str
    joints: tuple[str, ...]
    limbs: tuple[tuple[str, str], ...]
    description: str = ""
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.joints)) != len(self.joints):
            raise ValueError(f"skeleton {self.name}: duplicate joint names")
        object.__setattr__(self, "index", {j: i for i, j in enumerate(self.joints)})
        for a, b in self.limbs:
            if a not in self.index or b not in self.index:
                raise ValueError(f"skeleton {self.name}: limb ({a}, {b}) names an unknown joint")
        for j in self.joints:
            if mirror_name(j) not in self.index:
                raise ValueError(f"skeleton {self.name}: joint {j} has no mirror {mirror_name(j)}")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def limb_indices(self) -> list[tuple[int, int]]:
        return [(self.index[a], self.index[b]) for a, b in self.limbs]

    @property
    def flip_index(self) -> list[int]:
        """For each joint, the index of its mirror joint (itself for joints on the midline)."""
        return [self.index[mirror_name(j)] for j in self.joints]

    @property
    def flip_pairs(self) -> list[tuple[int, int]]:
        return [(i, j) for i, j in enumerate(self.flip_index) if i < j]

    def side(self, joint: str) -> str:
        """``left``, ``right`` or ``center``."""
        tokens = joint.split("_")
        return "left" if "left" in tokens else "right" if "right" in tokens else "center"
