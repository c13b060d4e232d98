"""Errors that the CLI turns into one clear line and a non-zero exit."""


class PoseItError(Exception):
    """A problem the user can fix (bad input, missing model, absent camera); never a bug."""


class ModelNotFoundError(PoseItError):
    """A model is neither cached nor pullable right now."""


class SourceError(PoseItError):
    """A source (file, folder, camera, stream) cannot be opened or read."""
