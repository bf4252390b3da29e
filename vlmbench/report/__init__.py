"""Reports of a run: terminal tables, report.md and report.html (results.csv: vlmbench.rundir).

Importing this package is cheap: jinja2 and matplotlib load only when a
report is written.
"""

from vlmbench.report.render import render_report
from vlmbench.report.schema import JobSummary, ReportError, summarize_job
from vlmbench.report.table import jobs_table, results_caveats, results_table, results_tables

__all__ = [
    "JobSummary",
    "ReportError",
    "jobs_table",
    "render_report",
    "results_caveats",
    "results_table",
    "results_tables",
    "summarize_job",
]
