"""The Python API of training runs, in one place for scripts::

    from rlkit.app.config import load_config
    from rlkit.app.runs import train

    result = train(load_config("experiments/ppo_cartpole.yaml", ["seed=3"]))
    print(result.run_dir, result.metrics["mean_reward"])

The pieces live by concern: `rlkit.app.training` (train, resume), `rlkit.app.learning` (the training
loop, `RunResult`), `rlkit.app.run_dir` (run directories, loading a run's agent), `rlkit.app.restore` (the
checkpoint a run resumes from), `rlkit.app.budget` (the steps it trains), `rlkit.app.evaluation`,
`rlkit.app.env_factory` and `rlkit.app.validation`.
"""

from rlkit.app.evaluation import Evaluator, format_metrics
from rlkit.app.learning import RunResult
from rlkit.app.run_dir import CHECKPOINT_DIR, CONFIG_FILE, METRICS_FILE, MODEL_FILE, load_agent, read_run_config
from rlkit.app.training import resume, train

__all__ = [
    "CHECKPOINT_DIR",
    "CONFIG_FILE",
    "METRICS_FILE",
    "MODEL_FILE",
    "Evaluator",
    "RunResult",
    "format_metrics",
    "load_agent",
    "read_run_config",
    "resume",
    "train",
]
