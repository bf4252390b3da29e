"""The Slurm commands vlmbench calls, and what their output means.

Only the command-line tools are used (sbatch, squeue, scontrol, scancel,
sacct): they are what every cluster has, whatever its version or
accounting setup. A finished job's exit code comes from ``scontrol show
job`` while the controller keeps its record (MinJobAge, 5 minutes by
default) and from ``sacct`` afterwards, where accounting is enabled.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from vlmbench.errors import ExecutorError, InfrastructureError

COMMAND_TIMEOUT_S = 60.0
INSTALL_HINT = ("install the Slurm client tools (Debian/Ubuntu: `apt-get install slurm-client`) and run vlmbench "
                "on a login node; for a one-node test cluster on this machine run scripts/slurm-cluster.sh")
CONTROLLER_HINT = ("check `scontrol ping` and `sinfo`; on a one-node test cluster (re)start it with "
                   "scripts/slurm-cluster.sh, on a shared cluster ask its administrators")

#: States after which a job never runs again (see `man squeue`, JOB STATE CODES).
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
                          "PREEMPTED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"})


@dataclass(frozen=True)
class SlurmJobState:
    """What the controller says about one job."""

    state: str  # PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
    reason: str | None = None
    exit_code: int | None = None
    signal: int | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    def describe(self) -> str:
        text = self.state
        if self.exit_code is not None:
            text += f", exit code {self.exit_code}" + (f" (signal {self.signal})" if self.signal else "")
        if self.reason and self.reason not in ("None", "NonZeroExitCode"):
            text += f", reason {self.reason}"
        return text


def slurm(args: Sequence[str], *, timeout_s: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run one Slurm command; its absence or a hang is an ExecutorError a user can act on."""
    if shutil.which(args[0]) is None:
        raise ExecutorError(f"`{args[0]}` is not on PATH, so the slurm executor cannot reach a cluster",
                            hint=INSTALL_HINT)
    try:
        return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise InfrastructureError(f"`{' '.join(args)}` did not answer within {timeout_s:g} s",
                            hint=CONTROLLER_HINT) from None


def _failed(args: Sequence[str], result: subprocess.CompletedProcess[str]) -> InfrastructureError:
    said = (result.stderr or result.stdout).strip().replace("\n", " | ")
    return InfrastructureError(f"`{' '.join(args)}` failed (exit {result.returncode}): {said}", hint=CONTROLLER_HINT)


def check_controller() -> None:
    """sbatch on PATH and a controller that answers `scontrol ping`; otherwise say how to fix it."""
    slurm(["sbatch", "--version"])
    result = slurm(["scontrol", "ping"], timeout_s=30)
    if result.returncode != 0 or " is UP" not in result.stdout:
        said = (result.stdout + result.stderr).strip().replace("\n", " | ") or f"exit {result.returncode}"
        raise ExecutorError(f"the Slurm controller does not answer: {said}", hint=CONTROLLER_HINT)


def submit(args: Sequence[str]) -> str:
    """`sbatch --parsable ARGS`; the new job's id."""
    command = ["sbatch", "--parsable", *args]
    result = slurm(command)
    if result.returncode != 0:
        raise _failed(command, result)
    return result.stdout.strip().split(";")[0]  # "id;cluster" on multi-cluster setups


def would_accept(args: Sequence[str]) -> str | None:
    """`sbatch --test-only`: None when the cluster would take such a job, else what it says."""
    result = slurm(["sbatch", "--test-only", *args])
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip().removeprefix("sbatch: error: ").replace("\n", " | ")


def cancel(job_ids: Sequence[str]) -> None:
    if job_ids:
        slurm(["scancel", *job_ids])  # a job that already ended is not an error worth raising


def queued_in(name: str, work_dir: str) -> list[str]:
    """Ids of not-yet-finished jobs called `name` that run in `work_dir` (leftovers of an earlier host)."""
    result = slurm(["squeue", "-h", "--name", name, "-o", "%i|%Z"])
    if result.returncode != 0:
        return []
    pairs = (line.split("|", 1) for line in result.stdout.splitlines() if "|" in line)
    return [job_id for job_id, directory in pairs if directory.rstrip("/") == work_dir.rstrip("/")]


def array_tasks_queued(name: str) -> list[tuple[str, str]]:
    """(task id, working directory) of each not-yet-finished task of the job arrays called `name`, a task
    per line (`-r`), pending ones too ("12_3", not "12_[3-5]")."""
    result = slurm(["squeue", "-h", "-r", "--name", name, "-o", "%i|%Z"])
    if result.returncode != 0:
        return []
    pairs = (line.strip().split("|", 1) for line in result.stdout.splitlines() if "|" in line)
    return [(task_id, directory) for task_id, directory in pairs if "_" in task_id]


def queue_states(job_ids: Sequence[str]) -> dict[str, SlurmJobState] | None:
    """States of many jobs in one squeue call (finished ones too, while the controller keeps them).

    None when the controller could not be asked (busy, restarting): not a sign that the jobs are gone.
    """
    if not job_ids:
        return {}
    # -r: an array's pending tasks each on a line of their own ("12_3"), as they were submitted.
    result = slurm(["squeue", "-h", "-r", "-t", "all", "-j", ",".join(job_ids), "-o", "%i|%T|%r"])
    if result.returncode != 0 and "Invalid job id" not in result.stderr:
        return None
    states: dict[str, SlurmJobState] = {}
    for line in result.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3:
            states[parts[0]] = SlurmJobState(state=parts[1], reason=parts[2] or None)
    return states


_FIELD = re.compile(r"(?:^|\s)(JobState|Reason|ExitCode)=(\S+)")


def parse_scontrol_job(text: str) -> SlurmJobState | None:
    """The state line of `scontrol show job -o ID`."""
    fields = dict(_FIELD.findall(text))
    if "JobState" not in fields:
        return None
    code, signal = _exit_code(fields.get("ExitCode"))
    return SlurmJobState(state=fields["JobState"], reason=fields.get("Reason"), exit_code=code, signal=signal)


def parse_sacct(text: str) -> SlurmJobState | None:
    """The first line of `sacct -n -P -X -o State,ExitCode`; "CANCELLED by 0" keeps its first word."""
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 2 and parts[0]:
            code, signal = _exit_code(parts[1])
            return SlurmJobState(state=parts[0].split()[0].rstrip("+"), exit_code=code, signal=signal)
    return None


def _exit_code(value: str | None) -> tuple[int | None, int | None]:
    if not value or ":" not in value:
        return None, None
    code, signal = value.split(":", 1)
    return (int(code), int(signal)) if code.isdigit() and signal.isdigit() else (None, None)


def final_state(job_id: str) -> SlurmJobState | None:
    """A job's state with its exit code: from the controller, else from accounting, else unknown."""
    result = slurm(["scontrol", "show", "job", "-o", job_id])
    if result.returncode == 0 and (state := parse_scontrol_job(result.stdout)):
        return state
    if shutil.which("sacct"):
        result = slurm(["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State,ExitCode"])
        if result.returncode == 0:
            return parse_sacct(result.stdout)
    return None
