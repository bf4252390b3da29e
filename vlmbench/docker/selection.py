"""Which images a pull is for: named models, a run CSV, or the whole catalog."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vlmbench.catalog import Catalog, suggest_model
from vlmbench.errors import CatalogError, ConfigError, Problem
from vlmbench.plan import images_of_rows


def images_for_models(catalog: Catalog, models: Sequence[str]) -> list[str]:
    """Every image that runs these models (all their frameworks); unknown names are all reported."""
    problems, images = [], []
    for name in models:
        rows = [row for row in catalog if row.model_name == name]
        if not rows:
            problems.append(Problem(f"unknown model {name!r}", hint=suggest_model(name, catalog.names())))
        images += [row.docker_image for row in rows]
    if problems:
        raise CatalogError.from_problems(problems)
    return list(dict.fromkeys(filter(None, images)))


def images_for_config(catalog: Catalog, config_path: Path) -> list[str]:
    from vlmbench.config import read_run_config

    return images_of_rows(catalog, read_run_config(config_path).rows)


def images_to_pull(catalog: Catalog, models: Sequence[str] = (), everything: bool = False,
                   config: Path | None = None) -> list[str]:
    if not (models or everything or config):
        raise ConfigError("say which images to pull", hint="name models, or use --all or --config RUN.csv")
    if everything:
        return list(dict.fromkeys(row.docker_image for row in catalog if row.docker_image))
    images = images_for_models(catalog, models)
    if config:
        images += images_for_config(catalog, config)
    return list(dict.fromkeys(images))
