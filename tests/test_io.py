"""Sources and sinks."""

import json
from itertools import pairwise

import cv2
import numpy as np
import pytest

from poseit.errors import SourceError
from poseit.io.sinks import CsvSink, JsonlSink, VideoSink, read_jsonl
from poseit.io.sources import CaptureSource, Frame, VideoSource, open_source, prefetch
from poseit.keypoints import Poses


@pytest.fixture(scope="module")
def short_clip(data_dir):
    return data_dir / "exercise-videos" / "hxlinh+Fitness_Pose_Correction_Application" / "plank_3.mp4"


def test_video_source_metadata_and_timestamps(short_clip):
    src = open_source(short_clip)
    assert isinstance(src, VideoSource) and src.num_frames == 77 and src.fps == pytest.approx(29.97, abs=0.01)
    frames = list(src)
    assert len(frames) == 77 and frames[0].image.shape == (720, 1280, 3)
    assert frames[30].time_s == pytest.approx(30 / src.fps)


def test_stream_url_source(short_clip):
    src = open_source(f"file://{short_clip}")  # a URL: goes through the stream path (FFmpeg)
    assert isinstance(src, CaptureSource) and src.live
    times = [f.time_s for f in src]
    assert len(times) == 77 and all(b >= a for a, b in pairwise(times))


def test_folder_order_and_unreadable_files(tmp_path, data_dir):
    for i in (1003, 1001, 1002):
        (tmp_path / f"im{i}.jpg").write_bytes((data_dir / "lsp" / "images" / f"im{i}.jpg").read_bytes())
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    (tmp_path / "zz.png").write_bytes(b"\x89PNG broken")
    got = []
    with pytest.raises(SourceError, match="1 of 4 files"):
        for frame in open_source(tmp_path):
            got.append(frame.path.rsplit("/", 1)[1])
    assert got == ["im1001.jpg", "im1002.jpg", "im1003.jpg"]


def test_prefetch_keeps_order_and_raises_after_the_good_frames():
    def frames():
        for i in range(10):
            yield Frame(np.zeros((2, 2, 3), np.uint8), i, i / 10)
        raise SourceError("ended early")

    seen = []
    with pytest.raises(SourceError):
        for f in prefetch(frames(), depth=2):
            seen.append(f.index)
    assert seen == list(range(10))


def test_sinks_write_valid_files(tmp_path):
    rng = np.random.default_rng(0)
    poses = Poses(xy=rng.uniform(0, 50, (1, 33, 2)), scores=rng.uniform(0, 1, (1, 33)), skeleton="blazepose33")
    frames = [Frame(np.zeros((60, 80, 3), np.uint8), i, i / 30) for i in range(3)]
    with JsonlSink(tmp_path / "p.jsonl") as j, CsvSink(tmp_path / "p.csv", "mpii16") as c:
        for f in frames:
            j.write(f, poses if f.index != 1 else Poses.empty("blazepose33"), coach={"reps": f.index})
            c.write(f, poses)
        # flushed line by line: readable before the sink is closed
        assert len(read_jsonl(tmp_path / "p.jsonl")) == 3
    recs = read_jsonl(tmp_path / "p.jsonl")
    assert recs[1]["poses"] == [] and recs[2]["coach"] == {"reps": 2} and recs[0]["width"] == 80
    assert json.dumps(recs[0]["poses"][0]["keypoints"][0])
    header, *rows = (tmp_path / "p.csv").read_text().splitlines()
    assert header.split(",")[5:8] == ["right_ankle_x", "right_ankle_y", "right_ankle_score"] and len(rows) == 3
    video = VideoSink(tmp_path / "v.mp4", fps=10)
    video.write_image(np.zeros((64, 64, 3), np.uint8))
    video.write_image(np.zeros((32, 48, 3), np.uint8))  # mixed sizes are fitted to the first
    video.close()
    cap = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 2 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 64
