"""The model's image inside a Slurm batch job: the lines of the batch script that start the worker in it.

The worker runs as the docker executor runs it (vlmbench.docker.jobs):
the job folder at /job (read-write), the dataset at /dataset and local
weights at /weights (read-only), the Hugging Face cache at
/cache/huggingface, the job as its container sees it in
container-job.json, and only allow-listed variables, passed by name so
that no secret value is written into the script. GPUs are the
allocation's: Slurm sets SLURM_JOB_GPUS (the node's device indexes) for
a job given --gres=gpu:N.

Runtimes, as the user picks them (--container-runtime, or
$VLMBENCH_CONTAINER_RUNTIME):

* ``docker`` and ``podman``: ``run`` on the node, locked down as the docker
  executor's containers are, with the job's labels; ``scancel`` stops the
  container (SIGTERM to the worker, which records what it did). GPUs:
  ``--gpus device=…`` (docker) or CDI ``--device nvidia.com/gpu=…`` (podman).
* ``apptainer`` (or ``singularity``): ``exec --containall --cleanenv`` of a
  ``.sif`` in $VLMBENCH_SIF_DIR named after the image (``vlmbench_cpu_0.1.0.sif``
  for ``vlmbench/cpu:0.1.0``) when there is one, else ``docker-daemon://IMAGE``
  from the node's Docker Engine; ``--nv`` when the job has GPUs.
* ``pyxis``: ``srun --container-image=IMAGE`` with ``--container-mounts``,
  the enroot/pyxis plugin's own options; the step gets the job's GPUs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vlmbench.docker.jobs import (
    JOB_DIR,
    LABEL_JOB,
    LABEL_MANAGED,
    LABEL_RUN,
    LABEL_SHARD,
    PIDS_LIMIT,
    SCRATCH_TMPFS,
    ContainerJob,
    allowed_environment,
    network_mode,
)
from vlmbench.errors import ConfigError, ExecutorError
from vlmbench.shards import Shard
from vlmbench.suggest import did_you_mean

RUNTIME_VARIABLE = "VLMBENCH_CONTAINER_RUNTIME"
SIF_DIR_VARIABLE = "VLMBENCH_SIF_DIR"
#: The runtimes, and the command each one's binary has.
RUNTIMES = {"docker": "docker", "podman": "podman", "apptainer": "apptainer", "singularity": "singularity",
            "pyxis": "srun"}
STOP_GRACE_S = 10
#: Words of a command that the batch script fills in when it runs: they are written unquoted.
SCRIPT_WORDS = {"$name": '"$name"', "$gpus": '"${gpus[@]}"', "$nv": '"${nv[@]}"'}


def _shell(words: list[str]) -> str:
    """One command of the script, an option (with its value) per line so that a person can read it."""
    lines: list[list[str]] = [[]]
    for word in words:
        if word.startswith("--") and lines[-1]:
            lines.append([])
        lines[-1].append(SCRIPT_WORDS.get(word, shlex.quote(word)))
    return " \\\n    ".join(" ".join(line) for line in lines)


def container_runtime(name: str | None) -> str | None:
    """A runtime by name (case and blanks aside), else $VLMBENCH_CONTAINER_RUNTIME; None: the host's Python."""
    name = (name if name is not None else os.environ.get(RUNTIME_VARIABLE, "")).strip().lower()
    if name in ("", "none"):
        return None
    if name not in RUNTIMES:
        raise ConfigError(f"unknown container runtime {name!r}",
                          hint=did_you_mean(name, list(RUNTIMES)) or f"one of {', '.join(RUNTIMES)}, or none")
    return name


def local_image_ids(runtime: str, images: Sequence[str]) -> dict[str, str]:
    """image → digest or id, as the submit host's Docker Engine or Podman holds it (left out when it does not).

    The nodes run their own copies; these stand for the images in the job ids, as the docker executor's do.
    """
    if runtime == "docker":
        from vlmbench.docker.engine import connect, image_digests

        try:
            return image_digests(images, connect())
        except ExecutorError:
            return {}
    found: dict[str, str] = {}
    for image in sorted(set(filter(None, images))):
        try:
            result = subprocess.run([runtime, "image", "inspect", "--format", "{{.Id}}", image],
                                    capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return found
        if result.returncode == 0 and result.stdout.strip():
            found[image] = result.stdout.strip()
    return found


def sif_name(image: str) -> str:
    """The .sif file name that stands for an image: ``vlmbench/cpu:0.1.0`` → ``vlmbench_cpu_0.1.0.sif``."""
    return image.replace("/", "_").replace(":", "_").replace("@", "_") + ".sif"


@dataclass(frozen=True)
class ContainerLaunch:
    """One worker of a batch job started in its image by ``runtime``."""

    runtime: str
    job: ContainerJob
    job_file: str  # as the container sees it (/job/container-job.json)
    user: str  # uid:gid the worker runs as, so its files are the user's
    shard: Shard | None = None

    @property
    def image(self) -> str:
        return self.job.spec.image or ""

    @property
    def worker(self) -> list[str]:
        return ["vlmbench", "worker", self.job_file, *(["--shard", str(self.shard)] if self.shard else [])]

    def passed_names(self, host: Mapping[str, str] | None = None) -> list[str]:
        """Variables the container takes from the batch job's environment, by name only (secrets among them)."""
        host = os.environ if host is None else host
        names = set(allowed_environment(host))
        named = self.job.spec.model.params.get("api_key_env")
        if isinstance(named, str) and named in host:
            names.add(named)
        return sorted(names)

    def fixed_environment(self) -> dict[str, str]:
        """What every worker's container is given, whatever the host has (the container job's own values)."""
        return self.job.environment({})

    def script_lines(self, host: Mapping[str, str] | None = None) -> list[str]:
        """Bash lines that run the worker in its image and exit with its exit code."""
        host = os.environ if host is None else host
        if self.runtime in ("docker", "podman"):
            return self._engine_lines(host)
        if self.runtime in ("apptainer", "singularity"):
            return self._apptainer_lines(host)
        return [f"exec {shlex.join(self.pyxis_command(host))}"]

    # --- docker and podman ---

    def engine_run(self, host: Mapping[str, str]) -> list[str]:
        """``docker run`` / ``podman run``; ``$name`` and ``$gpus`` (the allocation's) are the script's."""
        spec, runtime = self.job.spec, self.runtime
        words = [runtime, "run", "--rm", "--pull", "never", "--name", "$name", "--init", "--user", self.user,
                 "--workdir", JOB_DIR, "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                 "--pids-limit", str(PIDS_LIMIT), "--shm-size", "2g",
                 "--network", network_mode(spec, {**host, **self.fixed_environment()},
                                           host.get("VLMBENCH_DOCKER_NETWORK"))]
        for target, options in SCRATCH_TMPFS.items():
            words += ["--tmpfs", f"{target}:{options}"]
        for mount in self.job.mounts:
            words += ["--mount", f"type=bind,source={mount.source},target={mount.target}"
                                 + (",readonly" if mount.read_only else "")]
        for name, value in sorted(self.fixed_environment().items()):
            words += ["--env", f"{name}={value}"]
        for name in self.passed_names(host):
            words += ["--env", name]  # the value comes from the batch job's environment, not this script
        labels = {LABEL_MANAGED: "true", LABEL_RUN: spec.run_id, LABEL_JOB: spec.job_id,
                  **({LABEL_SHARD: str(self.shard)} if self.shard else {})}
        for key, value in labels.items():
            words += ["--label", f"{key}={value}"]
        # The image's own entrypoint may differ (vlmbench's images start `vlmbench worker`): named here.
        return [*words, "--entrypoint", self.worker[0], "$gpus", self.image, *self.worker[1:]]

    def _engine_lines(self, host: Mapping[str, str]) -> list[str]:
        runtime = self.runtime
        name = f"vlmbench-{self.job.spec.job_id}{f'-{self.shard.name}' if self.shard else ''}-slurm"
        if runtime == "docker":
            gpus = 'gpus=(--gpus "device=$SLURM_JOB_GPUS")'
        else:  # podman: the Container Device Interface names each device
            gpus = 'for device in ${SLURM_JOB_GPUS//,/ }; do gpus+=(--device "nvidia.com/gpu=$device"); done'
        return [
            f'name={shlex.quote(name)}"$SLURM_JOB_ID"',
            "gpus=()",
            f'if [ -n "${{SLURM_JOB_GPUS:-}}" ]; then {gpus}; fi',
            f"{_shell(self.engine_run(host))} &",
            "worker=$!",
            # scancel sends SIGTERM to this script: the container is stopped (its worker records what it
            # did), and the script ends with the container's own exit code.
            f"trap '{runtime} stop --time {STOP_GRACE_S} \"$name\" >/dev/null 2>&1' TERM INT HUP",
            'wait "$worker"; code=$?',
            'if [ "$code" -gt 128 ]; then wait "$worker"; code=$?; fi',
            'exit "$code"',
        ]

    # --- apptainer / singularity ---

    def apptainer_image(self, host: Mapping[str, str]) -> str:
        folder = host.get(SIF_DIR_VARIABLE, "").strip()
        if folder and (Path(folder) / sif_name(self.image)).is_file():
            return str(Path(folder) / sif_name(self.image))
        return f"docker-daemon://{self.image}"

    def apptainer_command(self, host: Mapping[str, str]) -> list[str]:
        """``apptainer exec``; ``$nv`` is the script's --nv, when the allocation has GPUs."""
        binds = ",".join(f"{m.source}:{m.target}" + (":ro" if m.read_only else "") for m in self.job.mounts)
        words = [self.runtime, "exec", "--containall", "--cleanenv", "--no-home", "--writable-tmpfs",
                 "--bind", binds, "--pwd", JOB_DIR]
        for name, value in sorted(self.fixed_environment().items()):
            words += ["--env", f"{name}={value}"]
        return [*words, "$nv", self.apptainer_image(host), *self.worker]

    def _apptainer_lines(self, host: Mapping[str, str]) -> list[str]:
        # --cleanenv drops the batch job's variables but for <RUNTIME>ENV_-prefixed ones: the allow-listed
        # ones go in so, by reference to the job's environment (no value in this script).
        prefix = f"{self.runtime.upper()}ENV_"
        passed = [f'export {prefix}{name}="${name}"' for name in self.passed_names(host)]
        return [*passed, "nv=()", 'if [ -n "${SLURM_JOB_GPUS:-}" ]; then nv=(--nv); fi',
                f"exec {_shell(self.apptainer_command(host))}"]

    # --- pyxis ---

    def pyxis_command(self, host: Mapping[str, str]) -> list[str]:
        mounts = ",".join(f"{m.source}:{m.target}" + (":ro" if m.read_only else "") for m in self.job.mounts)
        exported = ",".join(["ALL", *(f"{k}={v}" for k, v in sorted(self.fixed_environment().items()))])
        return ["srun", "--ntasks=1", f"--export={exported}", f"--container-image={self.image}",
                f"--container-mounts={mounts}", f"--container-workdir={JOB_DIR}", "--no-container-mount-home",
                "--no-container-remap-root", *self.worker]


__all__ = ["RUNTIMES", "RUNTIME_VARIABLE", "SIF_DIR_VARIABLE", "ContainerLaunch", "container_runtime", "sif_name"]
