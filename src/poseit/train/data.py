"""The torch `Dataset` that turns `Sample`s into augmented person crops and Gaussian heatmap targets (ground
truth and, for distillation, the teacher's)."""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from poseit.io.sources import read_image
from poseit.models.heatmap import normalize_image
from poseit.skeletons import get_skeleton
from poseit.train.augment import Augment, crop_person
from poseit.train.codec import codec_for
from poseit.train.datasets import Sample
from poseit.train.hourglass import HourglassConfig


class HeatmapDataset(Dataset):
    """Items: ``image`` (3, S, S) normalised RGB, ``target``/``teacher`` (16, S/4, S/4) heatmaps and their
    (16,) weights. Augmentation is drawn from a generator seeded by (seed, epoch, index): reproducible runs.

    A sample with the detector's ROI (``Sample.roi``, from the teacher run) is cropped there with probability
    ``roi_prob`` (then augmented around it), as the engine crops at inference; else around its joints. The
    cache keeps the encoded files in memory (video frames decoded would not fit)."""

    def __init__(
        self,
        samples: list[Sample],
        config: HourglassConfig,
        augment: Augment | None = None,
        sigma: float = 2.0,
        seed: int = 0,
        cache_images: bool = True,
        roi_prob: float = 0.0,
    ) -> None:
        self.samples = samples
        self.config = config
        self.augment = augment or Augment()
        self.codec = codec_for(config, sigma)
        self.seed = seed
        self.epoch = 0
        self.flip_index = get_skeleton("mpii16").flip_index
        self.roi_prob = roi_prob
        self._cache: dict[str, np.ndarray] | None = {} if cache_images else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def _image(self, path: str) -> np.ndarray:
        if self._cache is None:
            return read_image(path)
        if path not in self._cache:
            self._cache[path] = np.fromfile(path, dtype=np.uint8)
            read_image(path)  # a clear error once for a file that is not an image
        return cv2.imdecode(self._cache[path], cv2.IMREAD_COLOR)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        s = self.samples[i]
        rng = np.random.default_rng((self.seed, self.epoch, i))
        factor, rotation, flip, gains = self.augment.draw(rng)
        center, side = s.center, s.crop_side
        if s.roi is not None and self.roi_prob and rng.random() < self.roi_prob:
            shift = rng.normal(0.0, self.augment.shift, 2).clip(-2 * self.augment.shift, 2 * self.augment.shift)
            center, side, rotation = s.roi[:2] + shift * s.roi[2], float(s.roi[2]), rotation + float(s.roi[3])
        k = len(s.joints)
        teacher = s.teacher_joints if s.teacher_joints is not None else np.full((k, 2), np.nan, np.float32)
        size = self.config.input_size
        patch, (joints, teacher_xy) = crop_person(
            self._image(s.image),
            center,
            side * factor,
            size,
            [s.joints, teacher],
            rotation,
            flip,
            "mpii16",
            gains,
        )
        weight = s.weight
        teacher_weight = s.teacher_weight if s.teacher_weight is not None else np.zeros(k, np.float32)
        if flip:
            weight, teacher_weight = weight[self.flip_index], teacher_weight[self.flip_index]
        target, weight = self.codec.encode(joints, weight)
        teacher_map, teacher_weight = self.codec.encode(teacher_xy, teacher_weight)
        image = normalize_image(patch, self.config.mean).transpose(2, 0, 1)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(image)),
            "target": torch.from_numpy(target),
            "weight": torch.from_numpy(weight),
            "teacher": torch.from_numpy(teacher_map),
            "teacher_weight": torch.from_numpy(teacher_weight),
        }
