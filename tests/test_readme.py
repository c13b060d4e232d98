"""The README's Python example runs as written (with its file names pointed at real data)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_python_api_example_runs(data_dir, blazepose_models, capsys):
    code = readme_block("Python API")
    clip = data_dir / "exercise-videos" / "hxlinh+Fitness_Pose_Correction_Application" / "plank_3.mp4"  # 77 frames
    code = code.replace('"person.jpg"', repr(str(data_dir / "lsp" / "images" / "im1001.jpg")))
    code = code.replace('"workout.mp4"', repr(str(clip)))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("left knee at")
    assert len(out) == 1 + 77 and out[-1].split()[0] == "76"
