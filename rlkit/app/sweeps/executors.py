"""Where the runs of seed groups and sweeps execute: in this process (one worker), a pool of spawned processes
(one torch thread each), or Ray tasks (one CPU each)."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

import torch

from rlkit.app.config import config_from_dict
from rlkit.app.training import train

BACKENDS = ("local", "ray")
RAY_INSTALL_HINT = "install it with: pip install 'rlkit[ray]' (or pip install 'ray[tune]')"


def default_workers() -> int:
    """The number of CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _init_worker() -> None:
    # One torch thread per process: parallel runs share the cores instead of fighting over them.
    torch.set_num_threads(1)


def _summary(result: Any) -> dict[str, Any]:
    return {"status": result.status, "run_dir": str(result.run_dir), "steps": result.steps,
            "metrics": result.metrics, "message": result.message}  # fmt: skip


def train_worker(config_data: dict[str, Any]) -> dict[str, Any]:
    """Train one config (given as a dict, so it crosses process boundaries) and summarize how it ended."""
    _init_worker()
    return _summary(train(config_from_dict(config_data, "worker")))



class _InlineExecutor:
    """One worker: run in this process (no start-up cost; Ctrl-C reaches the run's own handler)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001  (re-raised by future.result())
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future

    def shutdown(self, cancel: bool = False) -> None:
        pass


class _ProcessExecutor:
    def __init__(self, workers: int):
        self.workers = workers
        self.pool = self._new_pool()

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        try:
            return self.pool.submit(fn, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory, a crash in native code): its runs were failed;
            # the next ones get a fresh pool.
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            return self.pool.submit(fn, *args)

    def shutdown(self, cancel: bool = False) -> None:
        self.pool.shutdown(wait=True, cancel_futures=cancel)


class _RayExecutor:
    """Each call a Ray task with one CPU; ``ObjectRef.future()`` makes it a `concurrent.futures.Future`.

    Sweeps on Ray keep Optuna's ask-and-tell in the driver rather than Ray Tune's ``OptunaSearch``:
    Tune's searcher holds its study in memory, whereas here the study stays in its storage, so
    continuing a stopped sweep, several drivers sharing one database, and pruning from the trial's
    own process behave the same on both backends."""

    def __init__(self, address: str | None, workers: int | None):
        ray = require_ray()
        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                     log_to_driver=True, ignore_reinit_error=True)  # fmt: skip
        self.remote: dict[Any, Any] = {}

    def nodes(self) -> int:
        return sum(1 for node in self.ray.nodes() if node.get("Alive"))

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        if fn not in self.remote:
            self.remote[fn] = self.ray.remote(num_cpus=1, max_retries=0)(fn)
        return self.remote[fn].remote(*args).future()

    def shutdown(self, cancel: bool = False) -> None:
        pass  # the Ray instance belongs to whoever started it (ray.init) or to the cluster


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError(f"--backend ray needs Ray, which is not installed; {RAY_INSTALL_HINT}") from None
    return ray


def check_executor_args(backend: str, workers: int, ray_address: str | None = None) -> None:
    """The checks of `make_executor` that need no executor (run before anything is written)."""
    if backend not in BACKENDS:
        raise ValueError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {workers}")
    if ray_address and backend != "ray":
        raise ValueError("--ray-address needs --backend ray")


def make_executor(backend: str, workers: int, ray_address: str | None = None) -> Any:
    check_executor_args(backend, workers, ray_address)
    if backend == "ray":
        return _RayExecutor(ray_address, workers)
    return _InlineExecutor() if workers == 1 else _ProcessExecutor(workers)

