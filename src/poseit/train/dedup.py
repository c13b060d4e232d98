"""Near-duplicate images by perceptual hash: a 64-bit DCT pHash (grey 32x32, the 8x8 lowest frequencies against
their median) and the Hamming distance between hashes. Used to keep LSP test images out of training data."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from poseit.io.sources import read_image


def phash(image: np.ndarray) -> int:
    """The 64-bit DCT perceptual hash of a BGR (or grey) image."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].ravel()
    bits = low > np.median(low[1:])  # the DC term would dominate the median
    return int(np.packbits(bits).view(">u8")[0])


def phashes(paths: Iterable[str | Path], mirrored: bool = False) -> np.ndarray:
    """(N,) uint64 hashes of image files (of their mirror images with ``mirrored``)."""
    return np.array([phash(read_image(p)[:, ::-1] if mirrored else read_image(p)) for p in paths], dtype=np.uint64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) Hamming distances between two arrays of 64-bit hashes."""
    x = np.bitwise_xor(a[:, None], b[None, :])
    return np.unpackbits(x.view(np.uint8).reshape(*x.shape, 8), axis=-1).sum(axis=-1)


def near_duplicates(candidates: np.ndarray, reference: np.ndarray, max_distance: int = 10) -> np.ndarray:
    """(len(candidates),) bool: whether each candidate hash lies within ``max_distance`` bits of a reference."""
    if len(candidates) == 0 or len(reference) == 0:
        return np.zeros(len(candidates), dtype=bool)
    out = np.zeros(len(candidates), dtype=bool)
    for i in range(0, len(candidates), 1024):
        out[i : i + 1024] = hamming(candidates[i : i + 1024], reference).min(axis=1) <= max_distance
    return out
