"""The fitness coach: kinematics, exercise definitions (data files), rep counting, form feedback,
exercise recognition, class-agnostic repetition counting and session reports."""
