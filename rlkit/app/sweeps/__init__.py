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

The package: `rlkit.app.sweeps.space` (search spaces), `.executors` (where runs execute), `.seeds` (seed
groups), `.study` (Optuna sweeps). Parallel runs are processes (spawn context, one torch thread each): torch training in threads would
contend for the GIL. As with any spawn-context pool, a script that calls these with ``workers > 1``
must do so under ``if __name__ == "__main__":`` (the workers import the script's main module).
"""

from __future__ import annotations

from rlkit.app.sweeps.executors import BACKENDS, RAY_INSTALL_HINT, check_executor_args, default_workers, make_executor, require_ray, train_worker
from rlkit.app.sweeps.seeds import SeedGroup, parse_seeds, run_seeds
from rlkit.app.sweeps.space import Param, apply_params, check_space, load_space, parse_space
from rlkit.app.sweeps.study import (
    BEST_CONFIG_FILE,
    STUDY_FILE,
    best_config,
    counts,
    make_pruner,
    make_storage,
    require_optuna,
    run_sweep,
    sqlite_url,
    top_trials,
    trial_worker,
    write_best_config,
)

__all__ = [
    "BACKENDS", "BEST_CONFIG_FILE", "RAY_INSTALL_HINT", "STUDY_FILE", "Param", "SeedGroup", "apply_params", "best_config",
    "check_executor_args", "check_space", "counts", "default_workers", "load_space", "make_executor", "make_pruner",
    "make_storage", "parse_seeds", "parse_space", "require_optuna", "require_ray", "run_seeds", "run_sweep", "sqlite_url",
    "top_trials", "train_worker", "trial_worker", "write_best_config",
]  # fmt: skip
