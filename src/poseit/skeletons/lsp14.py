"""Leeds Sports Pose: 14 joints (``joints.mat`` order)."""

from poseit.skeletons.base import Skeleton

SKELETON = Skeleton(
    name="lsp14",
    description="LSP 14 joints: legs, arms, neck, head top",
    joints=(
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist",
        "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "neck", "head_top",
    ),
    limbs=(
        ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"), ("right_hip", "left_hip"), ("right_wrist", "right_elbow"),
        ("right_elbow", "right_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
        ("right_shoulder", "neck"), ("left_shoulder", "neck"), ("neck", "head_top"),
        ("right_shoulder", "right_hip"), ("left_shoulder", "left_hip"),
    ),
)  # fmt: skip
