"""Frame sources: image, folder of images, video file, webcam index, stream URL (OpenCV does the decoding).

Every source yields `Frame`s (BGR uint8 image, index, timestamp, path for image sources) and raises
`SourceError` with one clear line when it cannot be opened, or after its last good frame when it ends early.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from poseit.errors import SourceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR uint8, H x W x 3
    index: int
    time_s: float
    path: str | None = None  # the file, for image and folder sources


class Source:
    """Iterable of frames with what is known about them up front."""

    name: str = ""
    fps: float = 30.0
    num_frames: int | None = None  # None for live sources
    live: bool = False

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to BGR uint8; `SourceError` if it is missing, empty or not an image."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        raise SourceError(f"empty file: {path}")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"not a readable image: {path}")
    return image


class ImageSource(Source):
    def __init__(self, path: Path) -> None:
        self.path, self.name, self.num_frames = path, str(path), 1
        self._image = read_image(path)

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(self._image, 0, 0.0, str(self.path))


class FolderSource(Source):
    """The images of a folder in name order; unreadable files are skipped, then reported at the end."""

    def __init__(self, path: Path) -> None:
        self.path, self.name = path, str(path)
        self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise SourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {path}")
        self.num_frames = len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        bad = []
        for i, f in enumerate(self.files):
            try:
                image = read_image(f)
            except SourceError as exc:
                print(f"warning: skipped {exc}", file=sys.stderr)
                bad.append(f.name)
                continue
            yield Frame(image, i, float(i), str(f))
        if bad:
            raise SourceError(
                f"{len(bad)} of {len(self.files)} files in {self.path} could not be read: {', '.join(bad[:5])}"
            )


class VideoSource(Source):
    """A video file. Ends with `SourceError` after its last good frame when it stops well short of the frame
    count its container announces (a truncated file). Announced counts are estimates (variable frame rate files
    run a few percent short), so only a shortfall over `TRUNCATION_SHORTFALL` counts as truncation."""

    TRUNCATION_SHORTFALL = 0.10

    def __init__(self, path: Path) -> None:
        self.path, self.name = path, str(path)
        if not path.is_file():
            raise SourceError(f"no such file: {path}")
        if path.stat().st_size == 0:
            raise SourceError(f"empty file: {path}")
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            raise SourceError(f"not a readable video or image: {path}")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 1000 else 30.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.num_frames = count if count > 0 else None
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"no decodable frames in {path} (truncated or not a video)")
        self._first = first

    def __iter__(self) -> Iterator[Frame]:
        index, image = 0, self._first
        while image is not None:
            yield Frame(image, index, index / self.fps)
            index += 1
            ok, image = self._cap.read()
            if not ok:
                image = None
        self.close()
        if self.num_frames and index < self.num_frames - max(2, self.TRUNCATION_SHORTFALL * self.num_frames):
            raise SourceError(f"{self.path} ended early: read {index} of {self.num_frames} frames (truncated file?)")

    def close(self) -> None:
        self._cap.release()


class CaptureSource(Source):
    """A webcam (by index) or a network stream (by URL); timestamps are wall-clock seconds since opening."""

    live = True

    def __init__(self, spec: int | str) -> None:
        self.name = f"camera {spec}" if isinstance(spec, int) else str(spec)
        self._cap = cv2.VideoCapture(spec)
        if not self._cap.isOpened():
            if isinstance(spec, int):
                raise SourceError(
                    f"no camera at index {spec} (none connected here?); give a video, image or "
                    f"folder instead, e.g. `poseit run clip.mp4` or `make run SOURCE=clip.mp4`"
                )
            raise SourceError(f"cannot open stream {spec}")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 1000 else 30.0

    def __iter__(self) -> Iterator[Frame]:
        start, index = time.perf_counter(), 0
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                break
            yield Frame(image, index, time.perf_counter() - start)
            index += 1
        self.close()

    def close(self) -> None:
        self._cap.release()


def open_source(spec: str | int | Path) -> Source:
    """Open ``spec``: a webcam index (``0``), a stream URL, a folder, an image or a video file."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CaptureSource(int(spec))
    text = str(spec)
    if _URL.match(text):
        return CaptureSource(text)
    path = Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path)
    if not path.exists():
        raise SourceError(f"no such file or folder: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path)
    return VideoSource(path)


def prefetch(frames: Iterator[Frame], depth: int = 4) -> Iterator[Frame]:
    """Decode ahead in a background thread so decoding overlaps inference; errors surface in order."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for f in frames:
                if stop.is_set():
                    return
                q.put(f)
            q.put(done)
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True, name="poseit-decode")
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)
