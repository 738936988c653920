"""Many runs of one config: seed groups and hyperparameter sweeps, on local processes or Ray.

rlkit does not schedule anything itself: the search is Optuna's (TPE sampler, median pruner on the
evaluations reported during training), the study lives in Optuna's storage (an SQLite file in the
sweep directory by default, or any database URL that several machines share), and distribution is
either a pool of local processes or Ray tasks. Each run is an ordinary `rlkit.app.training.train` run with
its own run directory and TensorBoard stream, hyperparameters included (TensorBoard's HParams view).

::

    from rlkit.app.config import load_config
    from rlkit.app.sweeps import load_space, run_seeds, run_sweep

    config = load_config("experiments/ppo_cartpole.yaml")
    group = run_seeds(config, [0, 1, 2, 3, 4], workers=2)          # -> SeedGroup
    study = run_sweep(config, load_space("space.yaml", config), n_trials=50, directory="sweeps/cartpole")

A search space file maps config fields (dotted paths, as ``--set`` takes them) to distributions::

    algo_kwargs.learning_rate: {type: float, low: 1.0e-4, high: 3.0e-3, log: true}
    algo_kwargs.n_epochs: {type: int, low: 3, high: 20}
    algo_kwargs.n_steps: {type: categorical, choices: [32, 64, 128]}
    n_envs: {type: categorical, choices: [4, 8, 16]}

Parallel runs are processes (spawn context, one torch thread each): torch training in threads would
contend for the GIL. As with any spawn-context pool, a script that calls these with ``workers > 1``
must do so under ``if __name__ == "__main__":`` (the workers import the script's main module).
"""

from __future__ import annotations

import concurrent.futures
import difflib
import math
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from rlkit.atomic_io import make_dirs
from rlkit.app.config import ExperimentConfig, config_from_dict, read_yaml, set_path

BACKENDS = ("local", "ray")
STUDY_FILE = "study.db"
BEST_CONFIG_FILE = "best.yaml"
RAY_INSTALL_HINT = "install it with: pip install 'rlkit[ray]' (or pip install 'ray[tune]')"

# config fields whose values are free-form mappings: the key after them is checked elsewhere
# (algo_kwargs against the algorithm's signature, env kwargs by building the env) in `check_space`.
_MAPPING_FIELDS = ("algo_kwargs", "env.kwargs", "policy.encoder_kwargs", "policy.kwargs")


# --- seeds ------------------------------------------------------------------------------------------


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


def default_workers() -> int:
    """The number of CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


# --- search spaces ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One searched config field and its distribution (Optuna's ``suggest_float/int/categorical``)."""

    path: str
    kind: str
    """``float``, ``int`` or ``categorical``."""
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        if self.kind == "float":
            return trial.suggest_float(self.path, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.path, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return trial.suggest_categorical(self.path, list(self.choices))

    def example(self) -> Any:
        """A value from the distribution (its lower end / first choice), to validate the field before a sweep."""
        if self.kind == "categorical":
            return self.choices[0]
        return int(self.low) if self.kind == "int" else float(self.low)


_PARAM_KEYS = {"float": {"type", "low", "high", "log", "step"}, "int": {"type", "low", "high", "log", "step"},
               "categorical": {"type", "choices"}}  # fmt: skip


def parse_space(data: dict[str, Any], source: str = "search space") -> dict[str, Param]:
    """A search space mapping (see the module docstring) → ``{path: Param}``; malformed entries are errors."""
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{source}: expected a mapping of config fields to distributions, e.g. "
                         "algo_kwargs.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}")  # fmt: skip
    space = {}
    for path, spec in data.items():
        where = f"{source}: {path}"
        if not isinstance(spec, dict) or spec.get("type") not in _PARAM_KEYS:
            raise ValueError(f"{where}: expected {{type: float|int|categorical, ...}}, got {spec!r}")
        kind = spec["type"]
        extra = set(spec) - _PARAM_KEYS[kind]
        if extra:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(extra))} for type {kind} (valid: {', '.join(sorted(_PARAM_KEYS[kind]))})")
        if kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise ValueError(f"{where}: categorical needs a non-empty list of choices, got {choices!r}")
            if any(not (c is None or isinstance(c, (bool, int, float, str))) for c in choices):
                raise ValueError(f"{where}: choices must be numbers, strings, booleans or null (Optuna stores them), got {choices!r}")
            space[path] = Param(path, kind, choices=tuple(choices))
            continue
        low, high = spec.get("low"), spec.get("high")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if not numbers or not low < high:
            raise ValueError(f"{where}: needs numbers low < high, got low={low!r}, high={high!r}")
        if kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
            raise ValueError(f"{where}: int bounds must be integers, got low={low!r}, high={high!r}")
        log = bool(spec.get("log", False))
        if log and low <= 0:
            raise ValueError(f"{where}: log=true needs low > 0, got low={low!r}")
        step = spec.get("step")
        if step is not None and log:
            raise ValueError(f"{where}: step and log=true cannot be combined (Optuna samples one or the other)")
        space[path] = Param(path, kind, float(low), float(high), log, None if step is None else float(step))
    return space


def load_space(path: str | Path, config: ExperimentConfig | None = None) -> dict[str, Param]:
    """Read a search space file; with `config`, also check every field against it (`check_space`)."""
    space = parse_space(read_yaml(path, "search space file"), str(path))
    if config is not None:
        check_space(space, config, str(path))
    return space


def check_space(space: dict[str, Param], config: ExperimentConfig, source: str = "search space") -> None:
    """Every path must name a config field: schema fields by the schema, keys under ``algo_kwargs``/
    ``env.kwargs``/… by building the config with each distribution's example value and running
    `rlkit.app.validation.validate` (the algorithm's signature, the env's constructor)."""
    from rlkit.app.config import _model_of

    for path in space:
        parts = path.split(".")
        if any(path.startswith(prefix + ".") for prefix in _MAPPING_FIELDS):
            continue
        model: Any = ExperimentConfig
        for i, part in enumerate(parts):
            fields = getattr(model, "model_fields", None) or {}
            if part not in fields:
                prefix = ".".join(parts[:i])
                close = difflib.get_close_matches(part, list(fields), n=1)
                hint = f"; did you mean {'.'.join(parts[:i] + close)!r}?" if close else ""
                raise ValueError(f"{source}: unknown config field {path!r}{hint} "
                                 f"(valid keys{' under ' + prefix if prefix else ''}: {', '.join(fields)})")  # fmt: skip
            model = _model_of(fields[part].annotation)
            if model is None and i < len(parts) - 1:
                raise ValueError(f"{source}: {path!r}: {'.'.join(parts[: i + 1])} is a value, not a mapping of fields")
        if model is not None:
            raise ValueError(f"{source}: {path!r} is a group of fields; search one of its fields, e.g. {path}.{next(iter(model.model_fields))}")
    from rlkit.app.validation import validate

    example = apply_params(config, {p: param.example() for p, param in space.items()}, source)
    try:
        validate(example)
    except ValueError as exc:
        raise ValueError(f"{source}: {str(exc).splitlines()[0]}") from None


def apply_params(config: ExperimentConfig, params: dict[str, Any], source: str = "sweep") -> ExperimentConfig:
    """`config` with each dotted path set to its value (validated by the schema)."""
    data = config.to_dict()
    for path, value in params.items():
        set_path(data, path.split("."), value)
    return config_from_dict(data, source)


# --- workers ----------------------------------------------------------------------------------------


def _init_worker() -> None:
    # One torch thread per process: parallel runs share the cores instead of fighting over them.
    import torch

    torch.set_num_threads(1)


def _summary(result: Any) -> dict[str, Any]:
    return {"status": result.status, "run_dir": str(result.run_dir), "steps": result.steps,
            "metrics": result.metrics, "message": result.message}  # fmt: skip


def train_worker(config_data: dict[str, Any]) -> dict[str, Any]:
    """Train one config (given as a dict, so it crosses process boundaries) and summarize how it ended."""
    from rlkit.app.training import train

    _init_worker()
    return _summary(train(config_from_dict(config_data, "worker")))


def trial_worker(config_data: dict[str, Any], storage_url: str, study_name: str, trial_id: int, prune: bool) -> dict[str, Any]:
    """Train one Optuna trial: every periodic evaluation is reported to the trial, and a trial the
    pruner stops ends cleanly with status ``stopped``. Runs wherever the study's storage is reachable."""
    import optuna

    from rlkit.app.training import train

    _init_worker()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=make_storage(storage_url), pruner=make_pruner(prune))
    trial = optuna.trial.Trial(study, trial_id)

    def on_eval(step: int, metrics: dict[str, Any]) -> bool:
        value = float(metrics["mean_reward"])
        if not math.isfinite(value):
            return True  # NaN is the NaN guard's business; the pruner cannot rank it
        trial.report(value, step)
        return not trial.should_prune()

    def on_start(run_dir: Path) -> None:
        trial.set_user_attr("run_dir", str(run_dir))

    try:
        result = train(config_from_dict(config_data, f"trial {trial.number}"), on_eval=on_eval, on_start=on_start)
    except Exception as exc:  # a failing trial is recorded as failed; the sweep goes on
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"status": "error", "run_dir": None, "steps": 0, "metrics": None, "message": f"{type(exc).__name__}: {first}"}
    return _summary(result)


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
        import multiprocessing

        return concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        from concurrent.futures.process import BrokenProcessPool

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


def require_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ValueError("rlkit sweep needs Optuna, which is not installed; install it with: pip install 'rlkit[sweep]'") from None
    return optuna


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


# --- seed groups ------------------------------------------------------------------------------------


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
        import numpy as np

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
    import datetime

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


# --- sweeps -----------------------------------------------------------------------------------------


def make_storage(url: str) -> Any:
    """Optuna's RDB storage for `url`; SQLite waits for the file lock instead of failing when parallel
    workers write at once."""
    import optuna

    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    shown = _without_password(url)
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except ImportError:  # a known dialect whose driver is not installed (psycopg2, pymysql)
        scheme = url.partition(":")[0]
        raise ValueError(f"--storage {shown!r}: the database driver for {scheme} is not installed; install it "
                         "(e.g. pip install psycopg2-binary for postgresql, PyMySQL for mysql+pymysql)") from None  # fmt: skip
    except Exception as exc:  # noqa: BLE001  (SQLAlchemy's errors for a malformed URL or an unknown dialect)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"--storage {shown!r}: cannot open it ({reason}); expected a database URL such as "
            "sqlite:///sweeps/study.db or postgresql://user:pass@host/db"
        ) from None


def _without_password(url: str) -> str:
    """`url` as errors show it: a password is written as *** (stderr ends up in CI logs)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  (not a URL SQLAlchemy can parse: nothing to hide in it)
        return url


def make_pruner(prune: bool) -> Any:
    import optuna

    # Median pruning once 5 trials have finished: a trial whose evaluation is below the median of
    # earlier trials at the same step stops there.
    return optuna.pruners.MedianPruner(n_startup_trials=5) if prune else optuna.pruners.NopPruner()


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _finished(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return [t for t in study.get_trials(deepcopy=False, states=states) if not t.user_attrs.get("stale")]


def run_sweep(
    config: ExperimentConfig,
    space: dict[str, Param],
    n_trials: int,
    directory: str | Path,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    workers: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    seed: int = 0,
    prune: bool = True,
    on_trial: Callable[[Any, dict[str, Any]], None] | None = None,
) -> Any:
    """Search `space` around `config` until the study holds `n_trials` finished trials (complete,
    pruned or failed); returns the Optuna study.

    Trials run up to `workers` at a time; trial N trains in ``<directory>/trial_NNNN/``. The study is
    stored in `storage` (default: ``sqlite:///<directory>/study.db``), so calling again with the same
    arguments continues it: finished trials are kept, and trials that were running when this host's
    previous sweep process died are marked failed (``stale``) and run again with the same parameters.
    Several machines may run the same call against one shared database at once.
    """
    optuna = require_optuna()
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if n_trials < 1:
        raise ValueError(f"--trials must be a positive integer, got {n_trials}")
    if seed < 0:
        raise ValueError(f"--sampler-seed must be a non-negative integer, got {seed}")
    check_executor_args(backend, workers, ray_address)  # before the study exists: bad input leaves no study.db
    check_space(space, config)
    directory = Path(directory).resolve()  # workers (other processes, Ray tasks) may have another working directory
    # The topmost directory this call creates (sweeps/ as well as sweeps/NAME/), removed if setup fails.
    created = next((p for p in reversed((directory, *directory.parents)) if not p.exists()), None)
    make_dirs(directory)
    try:
        storage_url = storage or sqlite_url(directory / STUDY_FILE)
        study_name = study_name or directory.resolve().name
        store = make_storage(storage_url)
        study = optuna.create_study(study_name=study_name, storage=store, direction="maximize", load_if_exists=True)
        # The sampler's seed is offset by the trials already in the study: a continued sweep must not draw
        # the start-up parameters of the first session again (a fresh sweep stays reproducible from `seed`).
        sampler = optuna.samplers.TPESampler(seed=seed + len(study.get_trials(deepcopy=False)))
        study = optuna.load_study(study_name=study_name, storage=store, sampler=sampler, pruner=make_pruner(prune))
        _check_same_study(study, config, space, storage_url)
    except BaseException:
        if created is not None:  # a sweep that never started leaves no directory behind
            import shutil

            shutil.rmtree(created, ignore_errors=True)
        raise

    # Trials left RUNNING by a dead sweep process on this host are stale: fail them, run their params again.
    host, pid = socket.gethostname(), os.getpid()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get("driver", "")
        owner_host, _, owner_pid = owner.rpartition(":")
        if owner_host == host and owner_pid.isdigit() and not _pid_alive(int(owner_pid)):
            store.set_trial_user_attr(trial._trial_id, "stale", True)
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})

    executor = make_executor(backend, workers, ray_address)
    if isinstance(executor, _RayExecutor) and storage_url.startswith("sqlite") and executor.nodes() > 1:
        executor.shutdown()
        raise ValueError("a Ray cluster with several nodes cannot share an SQLite file; give --storage a database "
                         "every node reaches, e.g. --storage postgresql://user:pass@head:5432/optuna")  # fmt: skip
    running: dict[concurrent.futures.Future, Any] = {}
    try:
        while True:
            left = n_trials - len(_finished(study)) - len(running)
            while left > 0 and len(running) < workers:
                trial = study.ask()
                trial.set_user_attr("driver", f"{host}:{pid}")
                params = {path: param.suggest(trial) for path, param in space.items()}
                trial_config = apply_params(config, params, f"trial {trial.number}")
                trial_config = trial_config.model_copy(update={"logdir": str(directory / f"trial_{trial.number:04d}")})
                future = executor.submit(trial_worker, trial_config.to_dict(), storage_url, study_name, trial._trial_id, prune)
                running[future] = trial
                left -= 1
            if not running:
                break
            done, _ = concurrent.futures.wait(list(running), return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                trial = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001  (a worker that died; the trial failed, the sweep goes on)
                    outcome = {"status": "error", "run_dir": None, "steps": 0, "metrics": None, "message": f"{type(exc).__name__}: {exc}"}
                _tell(study, store, trial, outcome)
                if on_trial is not None:
                    on_trial(study.trials[trial.number], outcome)
                if outcome["status"] == "interrupted":
                    raise KeyboardInterrupt
    finally:
        executor.shutdown(cancel=True)
    return study


def _tell(study: Any, store: Any, trial: Any, outcome: dict[str, Any]) -> None:
    from optuna.trial import TrialState

    status = outcome["status"]
    store.set_trial_user_attr(trial._trial_id, "status", status)
    if outcome.get("message"):
        store.set_trial_user_attr(trial._trial_id, "message", outcome["message"][:500])
    if status == "finished":
        value = float(outcome["metrics"]["mean_reward"])
        if math.isfinite(value):
            study.tell(trial, value)
        else:
            study.tell(trial, state=TrialState.FAIL)
    elif status == "stopped":
        study.tell(trial, state=TrialState.PRUNED)
    elif status == "interrupted":
        # Ctrl-C: the run checkpointed; the trial is run again (from scratch) when the sweep continues.
        store.set_trial_user_attr(trial._trial_id, "stale", True)
        study.tell(trial, state=TrialState.FAIL)
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
    else:  # diverged (NaN/inf) or an error
        study.tell(trial, state=TrialState.FAIL)


def _check_same_study(study: Any, config: ExperimentConfig, space: dict[str, Param], storage_url: str) -> None:
    """A continued study must search the same space around the same config, or its trials mean nothing."""
    base = config.to_dict()
    base.pop("logdir", None)
    signature = {"config": base, "space": {p: vars(param) | {"choices": list(param.choices)} for p, param in space.items()}}
    text = yaml.safe_dump(signature, sort_keys=True)
    saved = study.user_attrs.get("rlkit_sweep")
    if saved is None:
        study.set_user_attr("rlkit_sweep", text)
        study.set_user_attr("rlkit_config", yaml.safe_dump(config.to_dict(), sort_keys=False))
    elif saved != text:
        raise ValueError(f"study {study.study_name!r} in {storage_url} was started with a different config or search space; "
                         "give a new --dir (or --study-name) for a new sweep")  # fmt: skip


def best_config(study: Any, config: ExperimentConfig) -> ExperimentConfig:
    """`config` with the best complete trial's parameters (``ValueError`` if no trial completed)."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ValueError(f"study {study.study_name!r} has no complete trial yet (all failed or were pruned)")
    return apply_params(config, study.best_trial.params, "best trial")


def write_best_config(study: Any, config: ExperimentConfig, path: str | Path) -> ExperimentConfig:
    """Write the best config as a ready-to-run YAML (``rlkit train --config PATH``), with a header saying where it came from."""
    from rlkit.atomic_io import atomic_write

    best = best_config(study, config)
    trial = study.best_trial
    header = (
        f"# Best of {len(_finished(study))} trials of sweep {study.study_name!r}: trial {trial.number}, "
        f"final eval/mean_reward {trial.value:.6g}\n"
        f"# Parameters: {', '.join(f'{k}={v}' for k, v in trial.params.items())}\n"
        f"# Run it: rlkit train --config {path}\n"
    )
    atomic_write(path, (header + best.to_yaml()).encode())
    return best


def top_trials(study: Any, k: int = 10) -> list[dict[str, Any]]:
    """The `k` best complete trials, best first, then how many were pruned / failed."""
    from optuna.trial import TrialState

    complete = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.value, reverse=True)
    rows = []
    for t in complete[:k]:
        seconds = t.duration.total_seconds() if t.duration else math.nan
        rows.append({"trial": t.number, "value": t.value, "params": dict(t.params), "seconds": seconds,
                     "run_dir": t.user_attrs.get("run_dir", "")})  # fmt: skip
    return rows


def counts(study: Any) -> dict[str, int]:
    """Trials by state (stale retries not counted as failures)."""
    out: dict[str, int] = {}
    for t in _finished(study):
        out[t.state.name.lower()] = out.get(t.state.name.lower(), 0) + 1
    return out

