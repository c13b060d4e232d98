"""BlazePose / MediaPipe Pose: 33 landmarks."""

from poseit.skeletons.base import Skeleton

_SIDE_LIMBS = (
    ("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "pinky"), ("wrist", "index"), ("wrist", "thumb"),
    ("pinky", "index"), ("shoulder", "hip"), ("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"),
    ("heel", "foot_index"), ("ankle", "foot_index"), ("eye_inner", "eye"), ("eye", "eye_outer"),
    ("eye_outer", "ear"),
)  # fmt: skip

SKELETON = Skeleton(
    name="blazepose33",
    description="MediaPipe BlazePose 33 landmarks (face, hands and feet points included)",
    joints=(
        "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
        "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
        "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
        "left_foot_index", "right_foot_index",
    ),
    limbs=(
        *((f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b in _SIDE_LIMBS),
        ("nose", "left_eye_inner"), ("nose", "right_eye_inner"), ("mouth_left", "mouth_right"),
        ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ),
)  # fmt: skip
