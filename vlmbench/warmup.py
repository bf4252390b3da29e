"""The host's scoring and report made ready while the jobs run.

After the last prediction the host scores the run and draws its report,
and the first time a process does so it imports pandas, matplotlib and
jinja2, matplotlib loads its fonts and jinja2 compiles the report's
templates: about half a second, paid by every run after its model has
finished (a large share of a short job's cost beside the model). The host
has nothing to do while its workers run, so a thread does that then.

The scoring joins the thread before it starts: nothing of the warm-up
overlaps the main thread's own use of these libraries (matplotlib is not
thread-safe), and an import that fails here fails again, with its message,
where it is needed.
"""

from __future__ import annotations

import importlib
import threading

MODULES = (
    "pandas",
    "jinja2",
    "vlmbench.evaluate",
    "vlmbench.metrics.scoring",
    "vlmbench.compare",
    "vlmbench.report.render",
    "vlmbench.report.plots",
)


class ScoringWarmup:
    """A thread that imports :data:`MODULES`, draws one tiny chart and compiles the report's templates."""

    def __init__(self) -> None:
        self._thread = threading.Thread(target=self._warm, name="scoring-warmup", daemon=True)

    def start(self) -> ScoringWarmup:
        self._thread.start()
        return self

    def join(self) -> None:
        if self._thread.ident is not None:  # started
            self._thread.join()

    @staticmethod
    def _warm() -> None:
        try:
            for name in MODULES:
                importlib.import_module(name)
        except ImportError:
            return  # reported, with its message, by the scoring's own import
        from vlmbench.report.plots import warm_fonts
        from vlmbench.report.render import compile_templates

        warm_fonts()
        compile_templates()
