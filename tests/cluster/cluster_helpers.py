"""A throwaway local Ray cluster (a head and one worker node, each its own `ray start --block` process tree)
and a throwaway PostgreSQL server (Debian's initdb/pg_ctl in a temp folder), started and always torn down by
the tests. Processes are stopped by the ids these helpers started, never by name."""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from live_web import free_port

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
# Ray on loopback only. Ray swaps 127.0.0.1 and localhost for the machine's outward address (and a joining node
# refuses the setting that stops it), so the nodes are at 127.0.0.2, another loopback address it leaves alone.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
NODE_IP = "127.0.0.2"


def _stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group a helper started (session leader ``proc``), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


class RayCluster:
    """``ray start --head`` and ``ray start --address`` on this machine, ``num_cpus`` logical CPUs each."""

    def __init__(self, num_cpus: float = 1, workers: int = 1, object_store_mb: int = 200) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="pr-", dir="/tmp"))  # short: Ray's socket paths have a limit
        self.port = free_port()
        self.address = f"{NODE_IP}:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.worker_ranges: set[int] = set()
        ray = str(Path(sys.executable).parent / "ray")
        common = [
            "--block",
            "--disable-usage-stats",
            f"--num-cpus={num_cpus:g}",
            f"--object-store-memory={object_store_mb * 1024 * 1024}",
        ]
        try:
            head = [ray, "start", "--head", f"--port={self.port}", "--include-dashboard=false"]
            head += [f"--temp-dir={self.temp}", f"--ray-client-server-port={free_port()}"]
            self._start([*head, *common, f"--node-ip-address={NODE_IP}", *self._ports()])
            self.wait_nodes(1)
            for _ in range(workers):
                join = [ray, "start", f"--address={self.address}", f"--node-ip-address={NODE_IP}"]
                self._start([*join, *common, *self._ports()])
            self.wait_nodes(1 + workers)
        except BaseException:
            self.stop()
            raise

    def _ports(self) -> list[str]:
        """Free ports for one node's components, and a range of 100 for its workers below the kernel's
        ephemeral range (where the other ports come from, so the two never overlap)."""
        while (low := 20000 + 100 * random.randrange(100)) in self.worker_ranges:
            pass
        self.worker_ranges.add(low)
        return [
            f"--node-manager-port={free_port()}",
            f"--object-manager-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
            f"--min-worker-port={low}",
            f"--max-worker-port={low + 99}",
        ]

    def _start(self, cmd: list[str]) -> None:
        log = open(self.temp / f"node{len(self.procs)}.log", "wb")  # noqa: SIM115 (the process keeps it)
        env = {**os.environ, **RAY_ENV}
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, process_group=0, env=env))

    def alive_nodes(self) -> int:
        ray = str(Path(sys.executable).parent / "ray")
        try:
            out = subprocess.run(
                [ray, "status", f"--address={self.address}"],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, **RAY_ENV},
            )
        except subprocess.TimeoutExpired:
            return 0
        if out.returncode != 0 or "Active:" not in out.stdout:
            return 0
        active = out.stdout.split("Active:", 1)[1].split("Pending:", 1)[0]
        return sum(1 for line in active.splitlines() if " node_" in line)

    def wait_nodes(self, n: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"ray start exited: {self.logs()}")
            if self.alive_nodes() >= n:
                return
            time.sleep(1.0)
        raise RuntimeError(f"the Ray cluster did not reach {n} nodes: {self.logs()}")

    def node_of(self, pid: int) -> int | None:
        """Which node (0: the head, 1...: the workers) a process of the cluster runs on: the `ray start` process
        among its ancestors."""
        starts = [p.pid for p in self.procs]
        while pid > 1:
            if pid in starts:
                return starts.index(pid)
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                return None
            pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's id
        return None

    def kill_node(self, i: int) -> None:
        """SIGKILL node ``i``'s whole process tree, as when its machine dies: its `ray start` process group and
        every process below it (Ray's workers, the replicas among them, run in process groups of their own)."""
        tree, parents = {self.procs[i].pid}, {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        while True:
            more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
            if not more:
                break
            tree |= more
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.procs[i].pid, signal.SIGKILL)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.procs[i].wait(10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(self.temp.glob("node*.log")))

    def stop(self) -> None:
        for proc in reversed(self.procs):  # workers first, then the head
            _stop_group(proc)
        self.procs.clear()
        shutil.rmtree(self.temp, ignore_errors=True)


def pg_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs, if installed."""
    for d in PG_BIN_DIRS:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    return None


class PgServer:
    """A PostgreSQL cluster in a temp folder on a free port (trust auth on 127.0.0.1 only), run as the
    ``postgres`` system user when the tests run as root (the server refuses to run as root)."""

    def __init__(self) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server programs not installed (apt-get install postgresql)")
        self.bin = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="poseit-pg-"))
        self.port = free_port()
        self.user = None if os.geteuid() != 0 else "postgres"
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = self.dir / "data"
        self.proc: subprocess.Popen | None = None
        try:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
            opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
            log = str(self.dir / "log")
            self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", log, "-w", "-t", "60", "start")
        except BaseException:
            self.stop()
            raise
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        cmd = [str(self.bin / program), *args]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.dir)
        if out.returncode != 0:
            raise RuntimeError(f"{program} failed: {out.stdout[-1500:]} {out.stderr[-1500:]}")

    def database(self, name: str) -> str:
        """A new empty database's URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class RayServe:
    """``poseit serve --ray`` on a cluster, in its own process (stopped with SIGTERM, then killed)."""

    def __init__(self, address: str, db: str, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        cmd = [sys.executable, "-m", "poseit.cli", "serve", "--ray", address, "--port", str(self.port), "--db", db]
        env = {**os.environ, **RAY_ENV, "PYTHONWARNINGS": "ignore"}
        self.log = Path(tempfile.mkstemp(prefix="poseit-ray-serve-", suffix=".log")[1])
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([*cmd, *args], stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 240.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"poseit serve --ray exited: {self.log.read_text()[-3000:]}")
            if "poseit serve on Ray: open" in self.log.read_text(errors="replace"):
                try:
                    if httpx.get(self.url + "/api/exercises", timeout=5).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        raise RuntimeError(f"poseit serve --ray did not come up: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.unlink(missing_ok=True)
