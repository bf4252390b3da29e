"""Reports of a run: results.csv, terminal tables, report.md and report.html.

Importing this package is cheap: jinja2 and matplotlib load only when a
report is written.
"""

from vlmbench.report.render import write_report
from vlmbench.report.results import read_results_csv, write_results_csv
from vlmbench.report.schema import JobSummary, ReportError, summarize_job
from vlmbench.report.table import jobs_table, results_caveats, results_table, results_tables

__all__ = [
    "JobSummary",
    "ReportError",
    "jobs_table",
    "read_results_csv",
    "results_caveats",
    "results_table",
    "results_tables",
    "summarize_job",
    "write_report",
    "write_results_csv",
]
