"""Training, distillation and conversion of the stacked hourglass family (the ``train`` extra: torch, onnx, nncf,
h5py). The only package that imports torch; inference never needs it."""

from __future__ import annotations

from poseit.errors import PoseItError


def require_torch() -> None:
    """A one-line `PoseItError` when the ``train`` extra is missing."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise PoseItError("this command needs the train extra: pip install 'poseit[train]'") from None
