"""Skeleton definitions (one module per skeleton) and the registry that finds them by name."""

from poseit.skeletons import blazepose33, coco17, lsp14, mpii16, penn13
from poseit.skeletons.base import Skeleton, mirror_name

SKELETONS: dict[str, Skeleton] = {m.SKELETON.name: m.SKELETON for m in (blazepose33, mpii16, coco17, lsp14, penn13)}


def get_skeleton(name: str) -> Skeleton:
    """The registered skeleton called ``name``."""
    try:
        return SKELETONS[name]
    except KeyError:
        raise ValueError(f"unknown skeleton {name!r}; known: {', '.join(SKELETONS)}") from None


__all__ = ["SKELETONS", "Skeleton", "get_skeleton", "mirror_name"]
