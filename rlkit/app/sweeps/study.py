"""Hyperparameter sweeps: Optuna's ask-and-tell in this process (TPE sampler, median pruner on the evaluations
reported during training), the study in Optuna's storage (an SQLite file in the sweep directory by default, or a
database several machines share), each trial an ordinary run on the executor of `rlkit.app.sweeps.executors`."""

from __future__ import annotations

import concurrent.futures
import math
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from rlkit.app.config import ExperimentConfig, config_from_dict
from rlkit.app.training import train
from rlkit.app.sweeps.executors import _init_worker, _RayExecutor, _summary, check_executor_args, make_executor
from rlkit.app.sweeps.space import Param, apply_params, check_space
from rlkit.atomic_io import atomic_write, make_dirs

STUDY_FILE = "study.db"
BEST_CONFIG_FILE = "best.yaml"
_CREATE_ATTEMPTS = 8  # opening a new shared database while another process creates it


def require_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ValueError("rlkit sweep needs Optuna, which is not installed; install it with: pip install 'rlkit[sweep]'") from None
    return optuna


def trial_worker(config_data: dict[str, Any], storage_url: str, study_name: str, trial_id: int, prune: bool) -> dict[str, Any]:
    """Train one Optuna trial: every periodic evaluation is reported to the trial, and a trial the
    pruner stops ends cleanly with status ``stopped``. Runs wherever the study's storage is reachable."""
    import optuna

    _init_worker()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=make_storage(storage_url), pruner=make_pruner(prune))
    trial = optuna.trial.Trial(study, trial_id)

    config = config_from_dict(config_data, f"trial {trial.number}")

    def on_eval(step: int, metrics: dict[str, Any]) -> bool:
        value = float(metrics["mean_reward"])
        if not math.isfinite(value):
            return True  # NaN is the NaN guard's business; the pruner cannot rank it
        trial.report(value, step)
        # A trial that has trained every step is complete, whatever the pruner says of its last evaluation.
        return step >= config.total_steps or not trial.should_prune()

    def on_start(run_dir: Path, plan: Any) -> None:
        trial.set_user_attr("run_dir", str(run_dir))

    try:
        result = train(config, on_eval=on_eval, on_start=on_start)
    except Exception as exc:  # a failing trial is recorded as failed; the sweep goes on
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"status": "error", "run_dir": None, "steps": 0, "metrics": None, "message": f"{type(exc).__name__}: {first}"}
    return _summary(result)


def make_storage(url: str) -> Any:
    """Optuna's RDB storage for `url`; SQLite waits for the file lock instead of failing when parallel
    workers write at once."""
    import optuna

    from sqlalchemy.exc import IntegrityError, OperationalError

    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    shown = _without_password(url)
    try:
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
            except (IntegrityError, OperationalError):
                # Another process is creating the same new database this moment ("UNIQUE constraint failed:
                # alembic_version.version_num", "table ... already exists"): wait, then open what it made.
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")
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
    Several processes or machines may run the same call against one database at once, also on a new
    study. Trial N's parameters are drawn with the sampler seeded ``seed + N`` (recorded as the trial's
    ``sampler_seed``), so that concurrent sweep processes never draw the same ones.
    """
    optuna = require_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if n_trials < 1:
        raise ValueError(f"--trials must be a positive integer, got {n_trials}")
    if seed < 0:
        raise ValueError(f"--sampler-seed must be a non-negative integer, got {seed}")
    check_executor_args(backend, workers, ray_address)  # before the study exists: bad input leaves no study.db
    check_space(space, config)
    directory = Path(directory).resolve()  # workers (other processes, Ray tasks) may have another working directory
    study, store, storage_url = _open_study(config, space, directory, storage, study_name, prune)
    driver = f"{socket.gethostname()}:{os.getpid()}"
    _retry_stale_trials(study, store)
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
                trial, trial_config = _ask(study, space, config, directory, seed, driver)
                future = executor.submit(trial_worker, trial_config.to_dict(), storage_url, study.study_name, trial._trial_id, prune)
                running[future] = trial
                left -= 1
            if not running:
                break
            done, _ = concurrent.futures.wait(list(running), return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                trial = running.pop(future)
                outcome = _outcome(future)
                _tell(study, store, trial, outcome)
                if on_trial is not None:
                    on_trial(study.trials[trial.number], outcome)
                if outcome["status"] == "interrupted":
                    raise KeyboardInterrupt
    finally:
        executor.shutdown(cancel=True)
    return study


def _open_study(
    config: ExperimentConfig, space: dict[str, Param], directory: Path, storage: str | None, study_name: str | None, prune: bool
) -> tuple[Any, Any, str]:
    """(study, storage, storage URL): the sweep's study, created or continued (also when another process creates it
    at the same moment); a directory this call created is removed again if that fails."""
    import optuna

    # The topmost directory this call creates (sweeps/ as well as sweeps/NAME/), removed if setup fails.
    created = next((p for p in reversed((directory, *directory.parents)) if not p.exists()), None)
    make_dirs(directory)
    try:
        storage_url = storage or sqlite_url(directory / STUDY_FILE)
        store = make_storage(storage_url)
        # load_if_exists: a study created by another process meanwhile is loaded, not an error.
        study = optuna.create_study(study_name=study_name or directory.name, storage=store, direction="maximize",
                                    load_if_exists=True, pruner=make_pruner(prune))  # fmt: skip
        _check_same_study(study, config, space, storage_url)
    except BaseException:
        if created is not None:  # a sweep that never started leaves no directory behind
            import shutil

            shutil.rmtree(created, ignore_errors=True)
        raise
    return study, store, storage_url


def _retry_stale_trials(study: Any, store: Any) -> None:
    """Trials left RUNNING by a dead sweep process on this host are stale: fail them, run their params again."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get("driver", "")
        owner_host, _, owner_pid = owner.rpartition(":")
        if owner_host == host and owner_pid.isdigit() and not _pid_alive(int(owner_pid)):
            store.set_trial_user_attr(trial._trial_id, "stale", True)
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})


def _ask(study: Any, space: dict[str, Param], config: ExperimentConfig, directory: Path, seed: int, driver: str) -> tuple[Any, ExperimentConfig]:
    """A new trial, its parameters drawn by a sampler seeded ``seed + trial number`` (numbers are unique in the
    storage, so two processes sharing a study draw different parameters), and its config."""
    import optuna

    trial = study.ask()
    study.sampler = optuna.samplers.TPESampler(seed=seed + trial.number)  # used by the suggest calls below
    trial.set_user_attr("driver", driver)
    trial.set_user_attr("sampler_seed", seed + trial.number)
    params = {path: param.suggest(trial) for path, param in space.items()}
    trial_config = apply_params(config, params, f"trial {trial.number}")
    return trial, trial_config.model_copy(update={"logdir": str(directory / f"trial_{trial.number:04d}")})


def _outcome(future: concurrent.futures.Future) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001  (a worker that died; the trial failed, the sweep goes on)
        return {"status": "error", "run_dir": None, "steps": 0, "metrics": None, "message": f"{type(exc).__name__}: {exc}"}


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

