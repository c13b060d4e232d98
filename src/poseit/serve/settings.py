"""Server settings: where it listens, who may connect, how the engine runs, and the limits on clients."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from poseit.serve.session import EngineOptions

DEMO_CLIP = "exercise-videos/Tayyab-Abdullah+PushUp-Counter/pushup2.mp4"


def default_db() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("poseit")) / "history.db"


def default_demo() -> Path | None:
    """The demo clip from ../shared (or ``$POSEIT_DATA``) when present."""
    base = Path(os.environ.get("POSEIT_DATA", Path.cwd().parent / "shared" / "data"))
    clip = base / DEMO_CLIP
    return clip if clip.is_file() else None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    db: Path = field(default_factory=default_db)
    token: str | None = None  # required when ``host`` is not a loopback address
    engine: EngineOptions = field(default_factory=EngineOptions)
    demo_clip: Path | None = field(default_factory=default_demo)
    allowed_origins: tuple[str, ...] = ()  # extra WebSocket origins besides the page's own
    workers: int = 2  # inference threads shared by all clients
    max_clients: int = 16
    max_message_bytes: int = 1 << 20  # one JPEG frame
    max_side: int = 1280  # frame width and height
    max_fps: float = 30.0  # frames per second per client (0: no limit)
    max_upload_bytes: int = 200 << 20  # "Analyse a recording"
    idle_timeout_s: float = 60.0  # a connection that sends nothing this long is closed
    send_timeout_s: float = 10.0  # a client that does not read its answer this long is dropped
    tls: bool = False  # served over HTTPS (the phone link says https)

    def check(self) -> None:
        """Refuse configurations that would expose the server (one-line `PoseItError`)."""
        from poseit.errors import PoseItError

        if not is_loopback(self.host) and not self.token:
            raise PoseItError(
                f"--host {self.host} is reachable from other machines: set a token with --token or POSEIT_TOKEN"
            )
        if self.token is not None and len(self.token) < 8:
            raise PoseItError("the token must be at least 8 characters")
