"""Seed groups: one config trained once per seed, in parallel, each run in its own directory under the group's."""

from __future__ import annotations

import concurrent.futures
import datetime
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rlkit.app.config import ExperimentConfig
from rlkit.app.sweeps.executors import default_workers, make_executor, train_worker
from rlkit.atomic_io import make_dirs


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` → [0, 1, 2, 3, 4]; ``"0,3,7"`` → [0, 3, 7]; ``"0-2,9"`` → [0, 1, 2, 9]."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        lo, dash, hi = part.partition("-")
        try:
            values = list(range(int(lo), int(hi) + 1)) if dash else [int(part)]
        except ValueError:
            values = []
        if not values or any(v < 0 for v in values):
            raise ValueError(f"--seeds {text!r}: expected non-negative seeds as a range or list, e.g. --seeds 0-4 or --seeds 0,3,7")
        seeds.extend(values)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {text!r} names a seed twice; each seed is one run")
    return seeds



@dataclass
class SeedGroup:
    """The runs of one config over several seeds."""

    directory: Path
    """Holds one run directory per seed (``rlkit curves DIR`` and ``tensorboard --logdir DIR`` read them together)."""
    seeds: list[int]
    runs: list[dict[str, Any]]
    """Per seed, in `seeds` order: status, run_dir, steps, metrics (final evaluation), message."""

    def final_rewards(self) -> list[float]:
        return [r["metrics"]["mean_reward"] for r in self.runs if r["status"] == "finished"]

    def mean_std(self) -> tuple[float, float]:
        values = self.final_rewards()
        return (float(np.mean(values)), float(np.std(values))) if values else (math.nan, math.nan)


def run_seeds(
    config: ExperimentConfig,
    seeds: list[int],
    *,
    workers: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    directory: str | Path | None = None,
    on_done: Callable[[int, dict[str, Any]], None] | None = None,
) -> SeedGroup:
    """Train `config` once per seed, up to `workers` at a time, each in its own run directory under
    `directory` (default: ``<logdir>/<env>__<algo>__<encoder>__seeds<a-b>__<timestamp>``)."""
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    workers = min(default_workers() if workers is None else workers, len(seeds))
    executor = make_executor(backend, workers, ray_address)
    if directory is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        name = config.run_name(stamp).replace(f"__s{config.seed}__", f"__seeds{_seed_label(seeds)}__")
        directory = Path(config.logdir) / name
    directory = Path(directory).resolve()  # workers (other processes, Ray tasks) may have another working directory
    make_dirs(directory)
    futures = {}
    runs: dict[int, dict[str, Any]] = {}
    try:
        for seed in seeds:
            data = config.model_copy(update={"seed": seed, "logdir": str(directory)}).to_dict()
            futures[executor.submit(train_worker, data)] = seed
        for future in concurrent.futures.as_completed(futures):
            seed = futures[future]
            try:
                runs[seed] = future.result()
            except Exception as exc:  # noqa: BLE001  (one seed failing does not lose the others)
                runs[seed] = {"status": "error", "run_dir": None, "steps": 0, "metrics": None, "message": f"{type(exc).__name__}: {exc}"}
            if on_done is not None:
                on_done(seed, runs[seed])
    finally:
        executor.shutdown()
    return SeedGroup(directory, list(seeds), [runs[s] for s in seeds])


def _seed_label(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return "_".join(str(s) for s in seeds)

