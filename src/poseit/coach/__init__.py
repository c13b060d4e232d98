"""The fitness coach: kinematics, exercise definitions (data files), rep counting, form feedback, exercise
recognition, class-agnostic repetition counting and session reports.

    from poseit.coach import analyze, extract_poses
    seq = extract_poses("squats.mp4")            # BlazePose full, tracking; one person's keypoints per frame
    result = analyze(seq, "squat")               # or "auto", "any", or a path to a .toml definition
    print(len(result.reps), [i.message for i in result.issues])

Modules: `sequence` (PoseSequence: keypoints over a clip), `kinematics` (signals by joint name from any
skeleton), `library` + ``exercises/*.toml`` (one declarative definition per exercise), `counter` (the streaming
rep state machine), `analysis` (reps, metrics, form rules, auto/any), `periodic` (counting anything that
repeats), `recognize` + ``models/recognizer.json`` (Penn Action classifier, numpy only; retrain with
``python -m poseit.coach.train_recognizer``), `report` (summary.json, report.html, annotated.mp4), `live`
(``poseit run --exercise``).

Adding an exercise needs no code: copy a definition in ``exercises/``, pick its driving signal, thresholds,
posture and rules (see `poseit.coach.library`), and add a synthetic case to ``tests/coach/coach_synth.py``.
"""

from poseit.coach.analysis import Analysis, analyze
from poseit.coach.library import Exercise, get_exercise, library
from poseit.coach.sequence import PoseSequence, extract_poses

__all__ = ["Analysis", "Exercise", "PoseSequence", "analyze", "extract_poses", "get_exercise", "library"]
