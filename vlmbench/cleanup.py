"""What a killed `vlmbench run` leaves behind, found and removed: `vlmbench cleanup`.

A run killed outright (SIGKILL, a lost terminal, a crashed login node)
leaves work that goes on without it and files that say it still runs:
labelled containers, queued or running Slurm jobs, local workers in their
own session, statuses left "running", the atomic writers' temporary files
and its lock file. :func:`clean_run` takes the run directory's lock first,
so it never touches a run that a live process holds, and keeps it while
it stops that work, marks the statuses interrupted and removes the rest.
:func:`clean_orphans` does so for every run whose vlmbench containers
are on this engine and whose run is no longer held.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from vlmbench.errors import ExecutorError, RunDirInUseError, VlmbenchError
from vlmbench.rundir import JobDir, RunDir
from vlmbench.rundir.records import now_iso
from vlmbench.runlock import RunLock, pid_exists

#: Seconds a container or a local worker gets after SIGTERM to record what it did.
STOP_GRACE_S = 10
#: Seconds to wait for Slurm to confirm cancelled jobs left the queue.
SLURM_WAIT_S = 60.0
#: What vlmbench.fileio.write_atomic leaves when killed mid-write: ``.<name>.<mkstemp's 8 characters>``.
ATOMIC_TEMP = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}$")
#: The docker executor's container names: ``vlmbench-<job id>-<host pid>``.
CONTAINER_NAME = re.compile(r"^/?vlmbench-(?P<job>[^/]+)-(?P<pid>\d+)$")
JOB_MOUNT = "/job"  # where a container sees its job directory (vlmbench.docker.jobs.JOB_DIR)


@dataclass(frozen=True)
class Action:
    """One thing cleanup did (or left, and why)."""

    kind: str  # container, Slurm job, worker, status, temp file, lock, run
    target: str
    outcome: str
    run_dir: str = ""


def clean_run(run_dir: Path | str, *, force: bool = False, docker_client=None) -> list[Action]:
    """Remove what a killed run left in and for ``run_dir``; RunDirInUseError while a live process holds it."""
    run_dir = Path(run_dir)
    run = RunDir(run_dir)
    if not run_dir.is_dir():
        raise VlmbenchError(f"{run_dir} is not a directory", hint="give the run directory `vlmbench run` wrote")
    if not run.looks_like_run():
        raise VlmbenchError(f"{run_dir} is not a run directory (no {run.record_file.name}, "
                            f"{run.jobs_folder.name}/ or {run.lock_file.name})",
                            hint="give the run directory `vlmbench run` wrote")
    lock = RunLock(run_dir, "vlmbench cleanup", force=force).acquire()
    try:
        actions: list[Action] = []
        run_id, executor = _run_identity(run)
        if executor in (None, "slurm"):
            actions += _cancel_slurm_jobs(run_dir, run_id, required=executor == "slurm")
        if executor in (None, "docker") or docker_client is not None:
            actions += _remove_containers(run_dir, run_id, docker_client, required=executor == "docker")
        actions += _stop_local_workers(run_dir)
        actions += _settle_statuses(run, lock)
        actions += _remove_temp_files(run)
        if lock.stale is not None:
            actions.append(Action("lock", str(run.lock_file),
                                  f"stale lock of {lock.stale.describe()} removed"))
    finally:
        lock.release()
    return [Action(a.kind, a.target, a.outcome, str(run_dir)) for a in actions]


def clean_orphans(docker_client=None) -> list[Action]:
    """Every vlmbench container on the engine whose run is no longer held, and that run's other leftovers."""
    from vlmbench.docker.engine import connect
    from vlmbench.docker.jobs import LABEL_MANAGED

    client = docker_client or connect()
    containers = client.containers.list(all=True, filters={"label": [f"{LABEL_MANAGED}=true"]})
    by_run: dict[Path, list] = {}
    homeless = []
    for container in containers:
        run_dir = _run_dir_of(container)
        if run_dir is not None and run_dir.is_dir():
            by_run.setdefault(run_dir, []).append(container)
        else:
            homeless.append(container)
    actions: list[Action] = []
    for run_dir, members in sorted(by_run.items()):
        try:
            actions += clean_run(run_dir, docker_client=client)
        except RunDirInUseError as exc:
            actions += [Action("container", _name(c), f"left: {exc}", str(run_dir)) for c in members]
        except VlmbenchError:  # the folder is there but holds no run: the container is nobody's
            homeless += members
        except OSError as exc:  # e.g. another user's run directory, whose lock this user cannot take
            actions += [Action("container", _name(c), f"left: cannot lock its run directory: {exc}", str(run_dir))
                        for c in members]
    for container in homeless:
        # No run directory to ask: the host pid in its name is the runner's, on this host's engine.
        match = CONTAINER_NAME.match(container.name or "")
        pid = int(match["pid"]) if match else None
        if pid is not None and pid_exists(pid):
            actions.append(Action("container", _name(container),
                                  f"left: its run directory is gone, but process {pid} (its runner?) still runs"))
        else:
            actions.append(Action("container", _name(container), _stop_and_remove(container)))
    return actions


# --- what the run is ------------------------------------------------------------------------------


def _run_identity(run: RunDir) -> tuple[str | None, str | None]:
    """The run id and executor from run.json; the run id from a job.json if run.json was never written
    (or is unreadable: what a killed run left must still be found)."""
    try:
        record = run.read_record()
        return record.run_id, record.executor or None
    except VlmbenchError:
        pass
    for job in run.job_dirs():
        try:
            return job.read_spec().run_id, None
        except VlmbenchError:
            continue
    return None, None


# --- containers -------------------------------------------------------------------------------------


def _name(container) -> str:
    return (container.name or container.short_id).lstrip("/")


def _run_dir_of(container) -> Path | None:
    """The host run directory whose job directory is mounted at /job."""
    for mount in container.attrs.get("Mounts") or []:
        if mount.get("Destination") == JOB_MOUNT and mount.get("Source"):
            run = RunDir.holding(Path(mount["Source"]))
            return run.root if run is not None else None
    return None


def _belongs_to(container, run_dir: Path, run_id: str | None) -> bool:
    from vlmbench.docker.jobs import LABEL_RUN

    if run_id and (container.labels or {}).get(LABEL_RUN) == run_id:
        return True
    mounted = _run_dir_of(container)
    return mounted is not None and mounted.resolve() == run_dir.resolve()


def _stop_and_remove(container) -> str:
    import docker

    try:
        container.reload()
        running = container.status in ("running", "restarting", "paused")
        if running:
            container.stop(timeout=STOP_GRACE_S)  # SIGTERM: the worker records what it did
        container.remove(force=True)
    except docker.errors.NotFound:
        return "already gone"
    except docker.errors.APIError as exc:
        return f"not removed: {getattr(exc, 'explanation', None) or exc}"
    return "stopped and removed" if running else "removed"


def _remove_containers(run_dir: Path, run_id: str | None, client, *, required: bool) -> list[Action]:
    from vlmbench.docker.jobs import LABEL_MANAGED

    if client is None:
        try:
            from vlmbench.docker.engine import connect

            client = connect()
        except ExecutorError as exc:
            return [Action("container", "—", f"not looked for: {exc}")] if required else []
    containers = client.containers.list(all=True, filters={"label": [f"{LABEL_MANAGED}=true"]})
    return [Action("container", _name(c), _stop_and_remove(c)) for c in containers if _belongs_to(c, run_dir, run_id)]


# --- Slurm ----------------------------------------------------------------------------------------------


def _cancel_slurm_jobs(run_dir: Path, run_id: str | None, *, required: bool) -> list[Action]:
    from vlmbench.slurm.commands import cancel, slurm

    if shutil.which("squeue") is None:
        return [Action("Slurm job", "—", "not looked for: squeue is not on PATH")] if required else []
    try:
        jobs = _slurm_jobs_of(run_dir, run_id, slurm)
        if not jobs:
            return []
        cancel(list(jobs))  # SIGTERM to each worker, which records what it did
        deadline = time.monotonic() + SLURM_WAIT_S
        while (left := set(_slurm_jobs_of(run_dir, run_id, slurm)) & set(jobs)) and time.monotonic() < deadline:
            time.sleep(0.5)
    except ExecutorError as exc:
        return [Action("Slurm job", "—", f"not looked for: {exc}")] if required else []
    return [Action("Slurm job", f"{slurm_id} ({name})",
                   "cancel asked; Slurm has not confirmed yet" if slurm_id in left else "cancelled")
            for slurm_id, name in jobs.items()]


def _slurm_jobs_of(run_dir: Path, run_id: str | None, slurm) -> dict[str, str]:
    """Unfinished jobs of this run: its comment (`vlmbench run <id>`) or a working directory among its jobs."""
    result = slurm(["squeue", "-h", "-r", "-o", "%i|%j|%k|%Z"])  # -r: an array's tasks one by one
    if result.returncode != 0:
        raise ExecutorError(f"squeue failed: {(result.stderr or result.stdout).strip()}")
    # Where its batch jobs run: a job's folder, or (a job array's tasks) an array's folder.
    folders = {str(RunDir(run_dir).jobs_folder.resolve()), str(RunDir(run_dir).slurm_arrays_folder.resolve())}
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 4:
            continue
        slurm_id, name, comment, work_dir = parts
        ours = (run_id and comment.strip() == f"vlmbench run {run_id}") or (
            name.startswith("vlmbench-") and str(Path(work_dir).parent) in folders)
        if ours:
            found[slurm_id] = name
    return found


# --- local workers -------------------------------------------------------------------------------------


def _command_line(pid: int) -> list[str] | None:
    """A live process's arguments; None when it is gone or a zombie."""
    proc = Path("/proc") / str(pid)
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return None
        return (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        return None


def _local_workers(run_dir: Path) -> dict[int, tuple[str, list[str]]]:
    """pid → (job id, argv) of `python -m vlmbench worker RUN_DIR/jobs/<id>/job.json` processes on this host."""
    jobs_dir = RunDir(run_dir).jobs_folder.resolve()
    found: dict[int, tuple[str, list[str]]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = _command_line(int(entry.name))
        if not argv or "worker" not in argv or not any("vlmbench" in part for part in argv):
            continue
        for part in argv:
            if not JobDir.is_spec_file(part):
                continue
            path = Path(part)
            if not path.is_absolute():
                try:
                    path = Path(os.readlink(entry / "cwd")) / path
                except OSError:
                    continue
            if path.resolve().parent.parent == jobs_dir:
                found[int(entry.name)] = (path.parent.name, argv)
    return found


def _stop_local_workers(run_dir: Path) -> list[Action]:
    """Workers of the local executor run in their own session, so they can outlive a killed runner."""
    workers = _local_workers(run_dir)
    actions, signalled = [], {}
    for pid, (job_id, argv) in workers.items():
        try:
            os.kill(pid, signal.SIGTERM)  # the worker records what it did
            signalled[pid] = (job_id, argv)
        except ProcessLookupError:
            continue
        except PermissionError:
            actions.append(Action("worker", f"pid {pid} (job {job_id})", "left: another user's process"))

    def still_there(pid: int) -> bool:  # the same pid with the same command line: still the worker
        return _command_line(pid) == signalled[pid][1]

    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and any(still_there(pid) for pid in signalled):
        time.sleep(0.2)
    for pid, (job_id, _) in signalled.items():
        outcome = "stopped"
        if still_there(pid):
            try:
                os.kill(pid, signal.SIGKILL)
                outcome = "killed (it did not stop on SIGTERM)"
            except ProcessLookupError:
                pass
        actions.append(Action("worker", f"pid {pid} (job {job_id})", outcome))
    return actions


# --- files ----------------------------------------------------------------------------------------------


def _settle_statuses(run: RunDir, lock: RunLock) -> list[Action]:
    """Statuses still "running" (their worker and its runner are gone): interrupted, to be resumed."""
    runner = f"its runner, {lock.stale.describe()}," if lock.stale else "its runner"
    actions = []
    for job in run.worker_dirs():
        try:
            status = job.read_status()
        except VlmbenchError as exc:  # one unreadable status must not stop the rest of the cleanup
            actions.append(Action("status", f"job {job.path.relative_to(run.jobs_folder)}", f"left: {exc}"))
            continue
        if status.state != "running":
            continue
        status.state, status.finished_at, status.failure_class = "interrupted", now_iso(), "interrupted"
        status.error = f"interrupted: {runner} ended without finishing it (marked by vlmbench cleanup)"
        job.write_status(status)
        actions.append(Action("status", f"job {job.path.relative_to(run.jobs_folder)}", "running → interrupted (a rerun resumes it)"))
    return actions


def _remove_temp_files(run: RunDir) -> list[Action]:
    """The temporary files of atomic writes cut short, in the run directory and its job directories."""
    run_dir = run.root
    actions = []
    for folder in [run_dir, *(job.path for job in run.worker_dirs())]:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.is_symlink() and ATOMIC_TEMP.match(path.name):
                path.unlink(missing_ok=True)
                actions.append(Action("temp file", str(path.relative_to(run_dir)),
                                      f"removed (an unfinished write of {ATOMIC_TEMP.match(path.name)['name']})"))
    return actions


__all__ = ["Action", "clean_orphans", "clean_run"]
