"""Slurm side of vlmbench: the commands it calls and one planned job as a batch job.

``commands`` wraps sbatch/squeue/scontrol/scancel/sacct and reads their
output; ``script`` renders a job's sbatch options and batch script;
``poller`` asks the queue for all of a run's jobs in one call. The
executor that uses them is :mod:`vlmbench.executors.slurm`.
"""

from vlmbench.slurm.commands import FINAL_STATES, SlurmJobState, check_controller
from vlmbench.slurm.script import BatchJob, job_name

__all__ = ["FINAL_STATES", "BatchJob", "SlurmJobState", "check_controller", "job_name"]
