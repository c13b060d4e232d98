"""Penn Action: 13 joints (label ``.mat`` order)."""

from poseit.skeletons.base import Skeleton

SKELETON = Skeleton(
    name="penn13",
    description="Penn Action 13 joints: head and limbs",
    joints=(
        "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    limbs=(
        ("head", "left_shoulder"), ("head", "right_shoulder"), ("left_shoulder", "right_shoulder"),
        ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"), ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
        ("left_hip", "right_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
        ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ),
)  # fmt: skip
