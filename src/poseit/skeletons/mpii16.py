"""MPII Human Pose: 16 joints (the stacked hourglass family's output order)."""

from poseit.skeletons.base import Skeleton

SKELETON = Skeleton(
    name="mpii16",
    description="MPII 16 joints: legs, pelvis, thorax, upper neck, head top, arms",
    joints=(
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis", "thorax",
        "upper_neck", "head_top", "right_wrist", "right_elbow", "right_shoulder", "left_shoulder",
        "left_elbow", "left_wrist",
    ),
    limbs=(
        ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("right_hip", "pelvis"),
        ("left_hip", "pelvis"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("pelvis", "thorax"),
        ("thorax", "upper_neck"), ("upper_neck", "head_top"), ("right_wrist", "right_elbow"),
        ("right_elbow", "right_shoulder"), ("right_shoulder", "thorax"), ("left_shoulder", "thorax"),
        ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ),
)  # fmt: skip
