"""Evaluation sets: LSP, LSP Extended and MPII frames labelled in MobilePose's csv files.

Every loader returns `poseit.train.datasets.Sample`s, one per labelled person (the image path, the person's
joints on the dataset's own skeleton with the joints that count, and MPII-16 joints for training code), so the
same samples serve `poseit.evaluate.pck.evaluate_samples`, the image-level scoring in
`poseit.evaluate.person` and training. `group_by_image` gathers the people of each image.

Paths come from the caller; `default_paths` documents where the benchmarks look by default:
``$POSEIT_DATA/lsp`` (LSP), ``$POSEIT_LSP_EXT`` (LSP Extended), ``$POSEIT_MPII_IMAGES`` and
``$POSEIT_MPII_CSV`` (a folder holding ``train_joints.csv`` and ``test_joints.csv``).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseit.errors import PoseItError
from poseit.train.datasets import Sample, center_scale_from_joints
from poseit.train.datasets import load_lsp as _load_lsp
from poseit.train.datasets import load_lsp_extended as _load_lsp_extended

LSP_EXT_HALF = 5000  # LSP Extended: images 1-5000 are the dev pool, 5001-10000 the test pool


def default_paths() -> dict[str, Path]:
    """Where the evaluation sets are looked for unless a path is given (environment variables override)."""
    shared = Path(os.environ.get("POSEIT_DATA", Path.cwd().parent / "shared" / "data"))
    ext = Path("/work/extdata")
    return {
        "lsp": shared / "lsp",
        "lsp-extended": Path(os.environ.get("POSEIT_LSP_EXT", ext / "lsp-extended")),
        "mpii-images": Path(os.environ.get("POSEIT_MPII_IMAGES", ext / "oriu" / "images")),
        "mpii-csv": Path(os.environ.get("POSEIT_MPII_CSV", ext / "mobilepose" / "pose_dataset" / "mpii")),
    }


def load_lsp(root: str | Path, split: str = "test") -> list[Sample]:
    """Leeds Sports Pose (``root/joints.mat`` (3, 14, 2000), flag 0 = visible; train = images 1-1000, test =
    1001-2000). See `poseit.train.datasets.load_lsp`."""
    return _load_lsp(root, split)


def lsp_extended_indices(split: str, step: int = 5) -> range:
    """The 0-based LSP Extended images of a split: ``dev`` every ``step``-th image of 1-5000, ``test`` every
    ``step``-th of 5001-10000, ``all`` every image (10,000)."""
    if split == "dev":
        return range(0, LSP_EXT_HALF, step)
    if split == "test":
        return range(LSP_EXT_HALF, 2 * LSP_EXT_HALF, step)
    if split == "all":
        return range(2 * LSP_EXT_HALF)
    raise PoseItError(f"unknown LSP Extended split {split!r}; choose dev, test or all")


def load_lsp_extended(root: str | Path, split: str = "dev", step: int = 5) -> list[Sample]:
    """LSP Extended (flag 1 = visible, the reverse of LSP; only visible joints inside the image count), the
    images of ``split`` as in `lsp_extended_indices`. See `poseit.train.datasets.load_lsp_extended`."""
    return _load_lsp_extended(root, indices=lsp_extended_indices(split, step))


def load_mpii_csv(
    csv_paths: str | Path | list[str | Path], image_dir: str | Path, skip_missing: bool = True
) -> list[Sample]:
    """MPII people from MobilePose-style csv files: one row per person, ``imgname,x0,y0,...,x15,y15`` in MPII-16
    order (0-based pixels; every joint annotated, so every joint counts); several rows for one image are several
    people. Rows whose image is not in ``image_dir`` are skipped (``skip_missing``) or an error. The same
    person listed in two files is kept once. ``meta`` holds ``image`` (the file name) and ``person``."""
    paths = [csv_paths] if isinstance(csv_paths, (str, Path)) else list(csv_paths)
    image_dir = Path(image_dir)
    present = {p.name for p in image_dir.iterdir()} if image_dir.is_dir() else set()
    samples: list[Sample] = []
    seen: set[tuple] = set()
    counts: dict[str, int] = {}
    for path in map(Path, paths):
        if not path.is_file():
            raise PoseItError(f"MPII csv not found: {path}")
        with open(path, newline="") as f:
            for line, row in enumerate(csv.reader(f), 1):
                if not row:
                    continue
                if len(row) != 33:
                    raise PoseItError(f"{path}:{line}: expected imgname and 32 coordinates, got {len(row)} fields")
                name = row[0]
                if name not in present:
                    if skip_missing:
                        continue
                    raise PoseItError(f"{path}:{line}: image {name} not in {image_dir}")
                try:
                    xy = np.asarray(row[1:], dtype=np.float32).reshape(16, 2)
                except ValueError:
                    raise PoseItError(f"{path}:{line}: coordinates are not numbers") from None
                key = (name, *np.round(xy, 1).ravel().tolist())
                if key in seen:
                    continue
                seen.add(key)
                visible = np.ones(16, bool)
                center, scale = center_scale_from_joints(xy)
                person = counts.get(name, 0)
                counts[name] = person + 1
                meta = {"image": name, "person": person, "csv": path.name}
                samples.append(
                    Sample(str(image_dir / name), center, scale, xy.copy(), np.ones(16, np.float32), "mpii16",
                           xy, visible, meta)
                )  # fmt: skip
    return samples


@dataclass(frozen=True)
class LabelledImage:
    """The labelled people of one image: (P, K, 2) joints and (P, K) joints that count, on ``skeleton``."""

    image: str
    joints: np.ndarray
    visible: np.ndarray
    skeleton: str

    @property
    def people(self) -> int:
        return len(self.joints)


def group_by_image(samples: list[Sample]) -> list[LabelledImage]:
    """One `LabelledImage` per image, in the order images first appear."""
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(s.image, []).append(s)
    out = []
    for image, people in groups.items():
        joints = np.stack([p.source_joints for p in people]).astype(np.float32)
        visible = np.stack([p.source_visible for p in people]).astype(bool)
        out.append(LabelledImage(image, joints, visible, people[0].skeleton))
    return out


def mpii_split(csv_dir: str | Path, image_dir: str | Path, split: str) -> list[Sample]:
    """The MPII frames of a split, by image: ``test`` = every image named in ``test_joints.csv``, with all its
    labelled people from both files; ``dev`` = the images named only in ``train_joints.csv``. No image is in
    both splits."""
    csv_dir = Path(csv_dir)
    people = load_mpii_csv([csv_dir / "train_joints.csv", csv_dir / "test_joints.csv"], image_dir)
    test_images = {s.meta["image"] for s in people if s.meta["csv"] == "test_joints.csv"}
    if split == "test":
        return [s for s in people if s.meta["image"] in test_images]
    if split == "dev":
        return [s for s in people if s.meta["image"] not in test_images]
    if split == "all":
        return people
    raise PoseItError(f"unknown MPII split {split!r}; choose dev, test or all")
