"""Training runs: `train(config) -> RunResult`, `resume(run_dir)`, evaluation and run directories.

The ``rlkit train`` / ``resume`` / ``eval`` commands are thin shells around these functions, which
sweeps and scripts call directly::

    from rlkit.app.config import load_config
    from rlkit.app.runs import train

    result = train(load_config("experiments/ppo_cartpole.yaml", ["seed=3"]))
    print(result.run_dir, result.metrics["mean_reward"])

A run directory (``<logdir>/<env>__<algo>__<encoder>__s<seed>__<YYYYmmdd-HHMMSS>/``) holds:

* ``config.yaml``: the resolved `rlkit.app.config.ExperimentConfig` (reloads to the same config);
* ``events.out.tfevents.*``: one TensorBoard event stream (a resumed run continues it);
* ``checkpoints/``: the last ``keep_checkpoints`` checkpoints (see `rlkit.checkpoints`), written at
  rollout boundaries every ``checkpoint_every`` steps, on SIGINT/SIGTERM, and at the end;
* ``model.zip`` (SB3 format; plus ``vecnormalize.pkl`` with normalization) and ``metrics.json`` with
  the final evaluation, once the run finishes.

The directory is created only after the config, env and agent have been built without error, and
removed again if training fails before its first checkpoint: bad input never leaves a run behind.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import importlib
import inspect
import io
import json
import shutil
import signal
import sys
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from rlkit.checkpoints import (
    Checkpoint,
    CheckpointError,
    atomic_write,
    check_spaces,
    create_unique_dir,
    latest_checkpoint,
    normalization_of,
    preserved_rng,
    read_checkpoint,
    restore_env,
    restore_training_state,
    save_checkpoint,
    verify_zip,
)
from rlkit.app.config import ExperimentConfig, config_from_dict, read_yaml, save_config

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.zip"
NORMALIZE_FILE = "vecnormalize.pkl"
METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"


@dataclass
class RunResult:
    """The outcome of `train` / `resume`."""

    run_dir: Path
    status: str
    """``finished``, ``interrupted`` (signal; resumable), ``diverged`` (NaN/inf) or ``stopped`` (by ``on_eval``)."""
    steps: int
    """Env steps trained (``model.num_timesteps``) when training ended."""
    metrics: dict[str, Any] | None = None
    """The final evaluation (also in ``metrics.json``) for finished runs; the last periodic one otherwise."""
    message: str = ""
    """One line about how the run ended."""
    exit_code: int = 0
    """What the command line exits with: 0 finished, 128+signal interrupted, 1 diverged."""
    checkpoint: Checkpoint | None = None
    """The newest checkpoint on disk."""
    model: Any = field(default=None, repr=False)
    """The trained agent (for finished runs)."""


# --- validation and envs ----------------------------------------------------------------------------


def resolve_env_id(env_id: str) -> Any:
    """The Gymnasium `EnvSpec` of `env_id` (rlkit's envs registered; ``module:EnvId`` imports `module`).

    Unknown ids raise a `ValueError` with the closest registered ids."""
    import gymnasium as gym

    import envs  # noqa: F401  (registers rlkit/…)

    module, _, name = env_id.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ValueError(f"env id {env_id!r}: cannot import module {module!r} ({exc}){_import_hint(module, exc)}") from None
        except Exception as exc:  # the module exists but raised while importing
            raise ValueError(f"env id {env_id!r}: importing module {module!r} failed: {type(exc).__name__}: {exc}") from None
    try:
        return gym.spec(name)
    except gym.error.Error:
        close = difflib.get_close_matches(name, list(gym.registry), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"unknown env id {name!r}{hint} (`rlkit envs` lists rlkit's envs; `module:EnvId` imports your module first)"
        ) from None


def _resolve_wrapper(name: str) -> type:
    if ":" in name or "." in name:
        module, _, attr = name.rpartition(":") if ":" in name else name.rpartition(".")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"env.wrappers: cannot import {name!r} ({exc})") from None
    import gymnasium.wrappers

    wrapper = getattr(gymnasium.wrappers, name, None)
    if wrapper is None:
        close = difflib.get_close_matches(name, gymnasium.wrappers.__all__, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"env.wrappers: {name!r} is not in gymnasium.wrappers{hint} (or give module:Class)")
    return wrapper


def _rejected_kwargs(env_id: str, kwargs: dict[str, Any], exc: TypeError) -> ValueError:
    """The one line for env kwargs the constructor refused: its error, and the keywords it does take."""
    from gymnasium.envs.registration import load_env_creator

    # Gymnasium appends "was raised from the environment creator for ID with kwargs (...)": said already.
    reason = str(exc).split(" was raised from the environment creator")[0].strip()
    entry = resolve_env_id(env_id).entry_point
    try:
        params = inspect.signature(load_env_creator(entry) if isinstance(entry, str) else entry).parameters
    except (TypeError, ValueError, ImportError, AttributeError):  # a creator without a readable signature
        return ValueError(f"{env_id} rejected env kwargs {kwargs}: {reason}")
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):  # **kwargs: its names are not listed
        return ValueError(f"{env_id} rejected env kwargs {kwargs}: {reason}")
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = [name for name, p in params.items() if p.kind in keyword and name not in ("self", "render_mode")]
    hint = ""
    unknown = [key for key in kwargs if key not in accepted]
    close = difflib.get_close_matches(unknown[0], accepted, n=1) if unknown and accepted else []
    if close:
        hint = f"; did you mean {close[0]!r}?"
    takes = f" ({env_id} takes: {', '.join(accepted)})" if accepted else f" ({env_id} takes no keyword arguments)"
    return ValueError(f"{env_id} rejected env kwargs {kwargs}: {reason}{hint}{takes}")


def make_env(env_config: Any, render_mode: str | None = None, monitor: bool = False) -> Any:
    """One env as the config describes it: ``gymnasium.make(id, **kwargs)`` then the wrappers in order.

    `monitor` puts SB3's ``Monitor`` right after ``make`` (before the wrappers), so episode returns
    are the env's own rewards whatever the wrappers do to them."""
    import gymnasium as gym

    resolve_env_id(env_config.id)
    kwargs = dict(env_config.kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    try:
        env = gym.make(env_config.id, **kwargs)
    except TypeError as exc:
        raise _rejected_kwargs(env_config.id, dict(env_config.kwargs), exc) from None
    if monitor:
        from stable_baselines3.common.monitor import Monitor

        env = Monitor(env)
    for wrapper in env_config.wrappers:
        try:
            env = _resolve_wrapper(wrapper.name)(env, **wrapper.kwargs)
        except TypeError as exc:
            raise ValueError(f"env.wrappers: {wrapper.name}({wrapper.kwargs}) failed: {exc}") from None
    return env


def _make_env_in_worker(env_config: Any) -> Any:
    # Ctrl-C reaches the whole process group; a SubprocVecEnv worker that died of it would take the
    # run down before the main process could checkpoint. The main process decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return make_env(env_config, None, True)


def make_vec_env(config: ExperimentConfig) -> Any:
    """The training env stack: ``n_envs`` copies as an SB3 ``VecEnv``, with ``VecNormalize`` on top when
    configured. Not yet seeded: building the agent seeds copy i with ``seed + i``.

    ``env.vectorization``: ``vector`` steps the env's batched ``vector_entry_point`` through
    `rlkit.vec_env.VectorEnvAdapter`; ``auto`` does so where the env has one that autoresets in the same
    step (rlkit's envs) and no wrappers are configured, else uses SB3's ``DummyVecEnv``."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

    from rlkit.vec_env import make_vector_env

    spec = resolve_env_id(config.env.id)
    mode = config.env.vectorization
    if mode == "vector" and spec.vector_entry_point is None:
        raise ValueError(f"env.vectorization=vector but {config.env.id} has no vector_entry_point; use auto, dummy or subproc")
    if mode == "vector" and config.env.wrappers:
        raise ValueError("env.vectorization=vector cannot apply env.wrappers (they wrap single envs); use dummy")
    env = None
    if mode in ("auto", "vector") and spec.vector_entry_point is not None and not config.env.wrappers:
        try:
            env = make_vector_env(config.env.id, config.n_envs, config.env.kwargs, require_same_step=mode == "auto")
        except TypeError as exc:
            raise _rejected_kwargs(config.env.id, dict(config.env.kwargs), exc) from None
    if env is None:
        make_env(config.env).close()  # fail here, in this process, on bad kwargs or wrappers
        if mode == "subproc":
            env = SubprocVecEnv([partial(_make_env_in_worker, config.env)] * config.n_envs)
        else:
            env = DummyVecEnv([partial(make_env, config.env, None, True)] * config.n_envs)
    norm = config.env.normalize
    if norm.obs or norm.reward:
        gamma = float(config.algo_kwargs.get("gamma", 0.99))
        env = VecNormalize(
            env, norm_obs=norm.obs, norm_reward=norm.reward, clip_obs=norm.clip_obs, clip_reward=norm.clip_reward, gamma=gamma
        )
    return env


def env_spaces(config: ExperimentConfig) -> tuple[Any, Any]:
    """(observation, action) space of the config's env as an SB3 agent sees them (images channel-first)."""
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = BaseAlgorithm._wrap_env(DummyVecEnv([partial(make_env, config.env)]))
    try:
        return venv.observation_space, venv.action_space
    finally:
        venv.close()


def check_device(device: str) -> None:
    """A one-line ``ValueError`` for a device torch cannot parse or this machine lacks (``auto`` passes)."""
    import torch

    if device == "auto":
        return
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not a torch device; expected auto, cpu, cuda or cuda:N") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA is not available on this machine; use cpu or auto")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")


def _import_hint(module: str, exc: ImportError) -> str:
    """What to try when `module` itself (not something it imports) is not found."""
    top = module.split(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None or not module.startswith(exc.name):
        return ""
    if Path(f"{top}.py").is_file() or Path(top).is_dir():
        return f"; {top!r} is in the current directory, which Python does not search here: run with PYTHONPATH=. (e.g. PYTHONPATH=. rlkit train …)"
    return "; is it installed, or on PYTHONPATH? (PYTHONPATH=. for a module in the current directory)"


def _sequence_agent_hint(config: ExperimentConfig, algo: Any, observation_space: Any, action_space: Any) -> None:
    """Refuse a sequence encoder (lstm, gru, …) that a feed-forward agent could only use as a window encoder
    on a space without windows, pointing at the sequence agent that gives it a memory over the episode."""
    from agents import algos_for
    from rlkit.nn import fitting_encoders, sequence_encoder_names

    encoder, kwargs = config.policy.encoder, config.policy.encoder_kwargs
    if algo.name.endswith("-seq") or encoder not in sequence_encoder_names() or "window" in kwargs or kwargs.get("sequence"):
        return
    try:
        if encoder in fitting_encoders(observation_space):
            return
    except ValueError:
        return  # an unsupported space: the encoder reports it
    agents = [name for name in algos_for(action_space) if name.endswith("-seq")]
    if not agents:
        return
    agent = f"{algo.name}-seq" if f"{algo.name}-seq" in agents else agents[0]
    raise ValueError(
        f"encoder {encoder!r} with {algo.name} reads a window of observations (T, D), which {config.env.id}'s "
        f"observations are not; for a memory over the episode use the sequence agent: rlkit train {agent} "
        f"{config.env.id} --encoder {encoder} (or keep {algo.name} and stack frames: --encoder-kwargs window=T)"
    )


def validate(config: ExperimentConfig) -> Any:
    """Everything about `config` that needs imports, checked before anything is written.

    Returns the algorithm's `agents.AlgoSpec`. Raises `ValueError` (one line) for an unknown env id,
    algorithm, encoder, wrapper or ``algo_kwargs`` key, env kwargs the env rejects, or an algorithm
    that cannot read the env's observation space or act in its action space."""
    from agents import algos_for, get_algo

    check_device(config.device)
    resolve_env_id(config.env.id)
    algo = get_algo(config.algo)
    env = make_env(config.env)
    try:
        action_space, observation_space = env.action_space, env.observation_space
    finally:
        env.close()
    misfit = algo.observation_misfit(observation_space)
    if misfit is not None:
        readers = algos_for(action_space, observation_space)
        raise ValueError(
            f"{config.algo} cannot read {config.env.id}'s observation space {observation_space} ({misfit}); "
            + (f"algorithms that read it: {', '.join(readers)}; or " if readers else "")
            + "flatten it with --wrapper FlattenObservation"
        )
    if not algo.fits(action_space):
        fit = ", ".join(algos_for(action_space)) or "none (flatten it with a Gymnasium action wrapper)"
        raise ValueError(
            f"{config.algo} cannot act in {config.env.id}'s action space {action_space} "
            f"(it needs {' or '.join(algo.action_spaces)}); algorithms that fit: {fit}"
        )
    valid = algo.valid_kwargs()
    for key in config.algo_kwargs:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"{config.algo} does not take algo_kwargs.{key}; {hint}valid: {', '.join(valid)}")
    if config.policy.encoder is not None:
        from rlkit.nn import encoder_names

        names = list(encoder_names())
        if config.policy.encoder not in names:
            close = difflib.get_close_matches(config.policy.encoder, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown encoder {config.policy.encoder!r}; {hint}choose one of: {', '.join(names)}")
        _sequence_agent_hint(config, algo, observation_space, action_space)
    if config.policy.bc_data is not None or config.policy.bc_weight:
        from rlkit.pretrain.regularize import check_bc_config

        check_bc_config(config.policy, config.algo)
    if config.gail is not None:
        from rlkit.pretrain.gail.reward import check_gail_config

        check_gail_config(config.gail, config.algo, config.env.vectorization)
    return algo


# --- evaluation -------------------------------------------------------------------------------------


def uses_action_masks(model: Any) -> bool:
    """Whether `model` acts with the env's ``info["action_mask"]``: its ``predict`` takes ``action_masks``
    (e.g. ``ppo-seq``; SB3's own agents do not) and it was not trained without them (``use_action_masks``)."""
    try:
        takes_masks = "action_masks" in inspect.signature(model.predict).parameters
    except (AttributeError, TypeError, ValueError):
        return False
    return takes_masks and bool(getattr(model, "use_action_masks", True))


def action_masks(infos: Any) -> np.ndarray | None:
    """``(n, n_actions)`` bool masks stacked from the envs' ``info["action_mask"]`` (all allowed where one
    is missing), or None if no info carries one."""
    masks = [info.get("action_mask") for info in infos]
    given = [np.asarray(mask, dtype=bool) for mask in masks if mask is not None]
    if not given:
        return None
    return np.stack([np.ones_like(given[0]) if mask is None else np.asarray(mask, dtype=bool) for mask in masks])


class Evaluator:
    """Mean ± std return over seeded episodes (episode i reset with seed ``seed + i``), plus the env's
    ``episode_metrics`` averaged over episodes. The episodes run side by side in one ``DummyVecEnv``
    (one copy per episode, each copy's first episode counted), so the result depends only on the policy.
    An agent that acts with action masks (`uses_action_masks`) gets the copies' current ``info["action_mask"]``.

    `normalize_from`: the training ``VecNormalize`` (or a saved one) whose observation statistics are
    used, frozen."""

    MAX_STEPS = 1_000_000  # per evaluation: an env without a time limit must not hang training

    def __init__(self, config: ExperimentConfig, episodes: int | None = None, seed: int | None = None,
                 deterministic: bool | None = None, normalize_from: Any = None):  # fmt: skip
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

        self.episodes = episodes or config.eval.episodes
        self.env_id = config.env.id
        self.seed = config.eval.seed if seed is None else seed
        self.deterministic = config.eval.deterministic if deterministic is None else deterministic
        self.env = DummyVecEnv([partial(make_env, config.env, None, True)] * self.episodes)
        self.normalize_from = normalize_from
        if normalize_from is not None and normalize_from.norm_obs:
            self.env = VecNormalize(
                self.env, training=False, norm_obs=True, norm_reward=False, clip_obs=normalize_from.clip_obs
            )

    def __call__(self, model: Any) -> dict[str, Any]:
        from stable_baselines3.common.vec_env import VecNormalize

        if isinstance(self.env, VecNormalize):
            self.env.obs_rms = self.normalize_from.obs_rms.copy()
        n = self.episodes
        returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
        finished = np.zeros(n, dtype=bool)
        metrics: dict[str, list[float]] = {}
        self.env.seed(self.seed)
        obs = self.env.reset()
        # The current observations' infos: a finished copy's is its reset info (SB3 keeps it in reset_infos).
        reset_infos = self.env.unwrapped.reset_infos
        current = list(reset_infos)
        masked = uses_action_masks(model)
        state, starts = None, np.ones(n, dtype=bool)
        for _ in range(self.MAX_STEPS):
            if finished.all():
                break
            kwargs = {"action_masks": action_masks(current)} if masked else {}
            actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=self.deterministic, **kwargs)
            obs, _, dones, infos = self.env.step(actions)
            current = [reset_infos[i] if done else info for i, (done, info) in enumerate(zip(dones, infos))]
            starts = dones
            for i in np.flatnonzero(dones & ~finished):
                finished[i] = True
                returns[i], lengths[i] = infos[i]["episode"]["r"], infos[i]["episode"]["l"]
                for name, value in (infos[i].get("episode_metrics") or {}).items():
                    metrics.setdefault(name, []).append(float(value))
        else:
            raise ValueError(
                f"evaluation: {int((~finished).sum())} of {n} episodes of {self.env_id} did not end within "
                f"{self.MAX_STEPS:,} steps; give the env a time limit (e.g. --env-kwargs max_episode_steps=1000)"
            )
        out: dict[str, Any] = {
            "mean_reward": float(returns.mean()),
            "std_reward": float(returns.std()),
            "mean_ep_length": float(lengths.mean()),
            "episodes": n,
            "eval_seed": self.seed,
            "deterministic": self.deterministic,
            "returns": returns.tolist(),
        }
        out.update({f"env/{name}": float(np.mean(values)) for name, values in metrics.items()})
        return out

    def close(self) -> None:
        self.env.close()


def format_metrics(metrics: dict[str, Any]) -> str:
    """``mean return 0.93 ± 0.02 over 20 episodes (seeds 1000-1019; mean length 12.3); env/success 1``."""
    first, n = metrics["eval_seed"], metrics["episodes"]
    std = metrics["std_reward"] if abs(metrics["std_reward"]) > 1e-9 else 0.0  # not 2.2e-16 for equal returns
    text = (
        f"mean return {metrics['mean_reward']:.4g} ± {std:.3g} over {n} episodes "
        f"(seeds {first}-{first + n - 1}; mean length {metrics['mean_ep_length']:.4g})"
    )
    env_metrics = [f"{k} {v:.4g}" for k, v in metrics.items() if k.startswith("env/")]
    return text + ("; " + ", ".join(env_metrics) if env_metrics else "")


# --- run directories --------------------------------------------------------------------------------


def create_run_dir(config: ExperimentConfig) -> Path:
    """A new, empty run directory under ``config.logdir`` (a ``-2``, ``-3`` … suffix if the name is taken)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return create_unique_dir(Path(config.logdir) / config.run_name(stamp))


def read_run_config(run_dir: str | Path) -> ExperimentConfig:
    """The config of an existing run; a missing directory or config is a one-line error."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise FileNotFoundError(f"run directory {str(run_dir)!r} does not exist")
    if not run_dir.is_dir():
        raise NotADirectoryError(f"{str(run_dir)!r} is not a run directory")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} is not an rlkit run directory (no {CONFIG_FILE})")
    return config_from_dict(read_yaml(path), str(path))


def find_model(run_dir: str | Path) -> tuple[Path, Checkpoint | None]:
    """The run's newest agent: its final ``model.zip``, unless a checkpoint is further on (an extension,
    ``rlkit resume --steps``, stopped before it finished: model.zip is still the shorter run's), else its
    newest checkpoint; error if it has neither."""
    run_dir = Path(run_dir)
    ckpt = latest_checkpoint(run_dir / CHECKPOINT_DIR)
    if (run_dir / MODEL_FILE).is_file():
        final_step = None
        try:  # metrics.json is written right after model.zip, with the step count of that model
            final_step = int(json.loads((run_dir / METRICS_FILE).read_text())["steps"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if ckpt is None or (final_step is not None and ckpt.step <= final_step):
            return run_dir / MODEL_FILE, None
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no model ({MODEL_FILE}) and no checkpoint")
    return ckpt.model_path, ckpt


def load_agent(run_dir: str | Path, device: str = "auto", env_kwargs: dict[str, Any] | None = None) -> tuple[Any, ExperimentConfig, Path, Any]:
    """Load a run's agent for evaluation: ``(model, config, model path, normalization or None)``.

    `env_kwargs` override the run's env kwargs (to evaluate on a variant); a model whose spaces do not
    fit the env is refused with both spaces shown."""
    from agents import get_algo

    config = read_run_config(run_dir)
    check_device(device)  # else SB3's load reports a bad --device as a model that cannot be loaded
    if env_kwargs:
        config = config.model_copy(update={"env": config.env.model_copy(update={"kwargs": {**config.env.kwargs, **env_kwargs}})})
    algo = get_algo(config.algo)
    path, ckpt = find_model(run_dir)
    verify_zip(path)
    normalize = None
    if ckpt is not None:
        normalize = normalization_of(read_checkpoint(ckpt))
    elif (Path(run_dir) / NORMALIZE_FILE).is_file():
        import pickle

        normalize = pickle.loads((Path(run_dir) / NORMALIZE_FILE).read_bytes())
    saved_obs, saved_act = algo.saved_spaces(path)
    env_obs, env_act = env_spaces(config)
    check_spaces(path, saved_obs, saved_act, env_obs, env_act, config.env.id)
    try:
        model = algo.load(path, None, device)
    except Exception as exc:  # a zip that passed its CRC check but is not an agent of this kind
        raise CheckpointError(f"{path}: cannot be loaded as {config.algo} ({type(exc).__name__}: {exc})") from None
    return model, config, path, normalize


# --- training ---------------------------------------------------------------------------------------


class CheckpointCallback(BaseCallback):
    """Checkpoints at rollout boundaries (``on_rollout_start``): every `every` steps, and when a signal
    asked training to stop (then stop). A boundary is the one point where SB3's state is complete
    without the rollout buffer, so resuming from it equals never having stopped."""

    def __init__(self, status: Any, env: Any, directory: Path, every: int, keep: int):
        super().__init__()
        self.status, self.env, self.directory, self.every, self.keep = status, env, directory, every, keep
        self.next_at: int | None = None

    def _on_training_start(self) -> None:
        step = self.model.num_timesteps
        self.next_at = (step // self.every + 1) * self.every if self.every else None

    def _on_rollout_start(self) -> None:
        if self.status.stopped:
            return
        step = self.model.num_timesteps
        signalled = self.status.stop_signal is not None
        due = self.next_at is not None and step >= self.next_at
        if not (signalled or due):
            return
        with preserved_rng():
            extra = {"logger": pending_logs(self.logger)}
            self.status.last_checkpoint = save_checkpoint(self.model, self.env, self.directory, self.keep, extra, rollout_started=True)
        if due:
            self.next_at = (step // self.every + 1) * self.every
        if signalled:
            name = signal.Signals(self.status.stop_signal).name
            self.status.stop("interrupted", f"{name} at step {step}: checkpoint saved")

    def _on_step(self) -> bool:
        return self.status.stopped is None


@contextlib.contextmanager
def _stop_on_signals(status: Any, enabled: bool) -> Iterator[None]:
    """SIGINT/SIGTERM: the first asks training to stop at the next rollout boundary (after a checkpoint);
    a second one stops at once (``KeyboardInterrupt``)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if status.stop_signal is not None:
            raise KeyboardInterrupt
        status.stop_signal = signum
        print(
            f"\nrlkit: {signal.Signals(signum).name} received: saving a checkpoint at the next rollout boundary, "
            "then stopping (send it again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def pending_logs(logger: Any) -> dict[str, Any]:
    """Scalars recorded but not yet written (SB3 records an update's losses and writes them with the next
    rollout's statistics); saved with a checkpoint so that the resumed run writes them as the run would have."""
    keep = {k: v for k, v in logger.name_to_value.items() if isinstance(v, (int, float, np.number))}
    return {
        "values": keep,
        "counts": {k: logger.name_to_count[k] for k in keep if k in logger.name_to_count},
        "excluded": {k: logger.name_to_excluded[k] for k in keep if k in logger.name_to_excluded},
    }


def restore_pending_logs(logger: Any, pending: dict[str, Any] | None) -> None:
    if not pending:
        return
    logger.name_to_value.update(pending["values"])
    logger.name_to_count.update(pending["counts"])
    logger.name_to_excluded.update(pending["excluded"])


def _hparams(config: ExperimentConfig) -> dict[str, Any]:
    from rlkit.tb import flatten_hparams

    data = config.to_dict()
    for key in ("logdir", "device", "expected"):
        data.pop(key, None)
    return flatten_hparams(data)


def _learn(
    model: Any,
    env: Any,
    config: ExperimentConfig,
    run_dir: Path,
    fresh: bool,
    callbacks: list[Any],
    on_eval: Callable[[int, dict[str, Any]], bool | None] | None,
    progress_bar: bool,
    handle_signals: bool,
    regularizer: Any = None,
) -> RunResult:
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.vec_env import VecNormalize

    from rlkit.tb import (
        BatchReturnCallback,
        EnvMetricsCallback,
        HParamsCallback,
        NanGuard,
        PeriodicEval,
        TrainingDiverged,
        TrainingStatus,
        first_non_finite_parameter,
        log_eval,
    )

    status = TrainingStatus()
    normalize = env if isinstance(env, VecNormalize) else None
    evaluator = Evaluator(config, normalize_from=normalize)

    def evaluate(agent: Any) -> dict[str, Any]:
        with preserved_rng():
            return evaluator(agent)

    chain: list[Any] = [NanGuard(status), EnvMetricsCallback(), BatchReturnCallback()]
    if fresh:
        chain.append(HParamsCallback(_hparams(config)))
    if config.eval.every:
        chain.append(PeriodicEval(evaluate, config.eval.every, status, on_eval))
    checkpoint_dir = run_dir / CHECKPOINT_DIR
    chain.append(CheckpointCallback(status, env, checkpoint_dir, config.checkpoint_every, config.keep_checkpoints))
    if config.policy.critic_warmup_steps:
        from rlkit.pretrain.warmup import CriticWarmup

        chain.append(CriticWarmup(config.policy.critic_warmup_steps))
    if regularizer is not None:
        chain.append(regularizer)
    chain.extend(callbacks)

    hard_stop = False
    try:
        with _stop_on_signals(status, handle_signals):
            model.learn(
                config.total_steps - model.num_timesteps,
                callback=CallbackList(chain),
                reset_num_timesteps=fresh,
                progress_bar=progress_bar,
            )
    except TrainingDiverged:
        pass  # status says where and why
    except ValueError as exc:
        # NaN weights usually surface inside SB3's update first, as torch's distribution check failing.
        bad = first_non_finite_parameter(model)
        if bad is None:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        status.stop("diverged", f"non-finite weights in policy.{bad} at step {model.num_timesteps} ({first})")
    except KeyboardInterrupt:
        hard_stop = True
        status.stop("interrupted", f"stopped at once at step {model.num_timesteps}")
        status.stop_signal = status.stop_signal or signal.SIGINT

    step = int(model.num_timesteps)
    last = latest_checkpoint(checkpoint_dir)
    result = RunResult(run_dir, status.stopped or "finished", step, checkpoint=last, model=model)
    if status.last_eval is not None:
        result.metrics = status.last_eval[1]
    try:
        if status.stopped == "interrupted":
            result.exit_code = 128 + int(status.stop_signal or signal.SIGINT)
            if last is None:
                shutil.rmtree(run_dir, ignore_errors=True)
                result.message = f"{status.message}; no checkpoint had been written, so the run directory was removed"
            else:
                kept = f" (the last checkpoint, step {last.step}, is kept)" if hard_stop else ""
                result.message = f"{status.message}{kept}; continue with: rlkit resume {run_dir}"
            return result
        if status.stopped == "diverged":
            result.exit_code = 1
            kept = f"the last good checkpoint is step {last.step}" if last else "no checkpoint had been written"
            result.message = f"training diverged: {status.message}; {kept} (lower the learning rate or check the env)"
            return result
        if status.stopped == "stopped":
            result.message = status.message
            return result
        # Finished: a final checkpoint (to extend the run later), the model, the final evaluation.
        if last is None or last.step != step:
            extra = {"logger": pending_logs(model.logger)}
            result.checkpoint = save_checkpoint(model, env, checkpoint_dir, config.keep_checkpoints, extra)
        buffer = io.BytesIO()
        model.save(buffer)
        atomic_write(run_dir / MODEL_FILE, buffer.getvalue())
        if normalize is not None:
            import cloudpickle

            atomic_write(run_dir / NORMALIZE_FILE, cloudpickle.dumps(normalize))
        if status.last_eval is not None and status.last_eval[0] == step:
            metrics = status.last_eval[1]
        else:
            metrics = evaluate(model)
            log_eval(model.logger, metrics, step)
        metrics = {**metrics, "steps": step, "algo": config.algo, "env": config.env.id, "seed": config.seed}
        atomic_write(run_dir / METRICS_FILE, (json.dumps(metrics, indent=2) + "\n").encode())
        result.metrics = metrics
        result.message = f"finished {step} steps: {format_metrics(metrics)}"
        return result
    finally:
        evaluator.close()
        model.logger.close()


def _with_pretrained_encoder(config: ExperimentConfig, algo: Any) -> ExperimentConfig:
    """``policy.init_encoder``/``init_policy``: the policy's encoder and kwargs come from the checkpoint
    (stored in the run's config, so that ``resume`` and ``eval`` rebuild the same network)."""
    if config.policy.critic_warmup_steps:
        from rlkit.pretrain.warmup import check_warmup_config

        check_warmup_config(config.policy)
    if config.policy.init_encoder is None and config.policy.init_policy is None and not config.policy.freeze_encoder:
        return config
    from rlkit.pretrain.init import resolve_policy_config

    sequence = algo.name == "ppo-seq"
    return config.model_copy(update={"policy": resolve_policy_config(config.policy, sequence)})


def _load_pretrained(model: Any, config: ExperimentConfig) -> None:
    if config.policy.init_encoder is None and config.policy.init_policy is None:
        return
    from rlkit.pretrain.init import initialize

    initialize(model, config.policy)
    if config.policy.critic_warmup_steps:
        from rlkit.pretrain.warmup import critic_parameters

        critic_parameters(model.policy)  # refuses a policy without a value function before the run directory exists


def _bc_regularizer(model: Any, config: ExperimentConfig, resuming: Path | None = None) -> Any:
    """``policy.bc_data``/``bc_weight``: the callback adding the BC term, its dataset read (again, on resume) and
    checked against the agent's spaces before anything is written; None without a BC term."""
    if not config.policy.bc_weight:
        return None
    from rlkit.pretrain.regularize import BCRegularizer, load_bc_data

    path = config.policy.bc_data
    if resuming is not None and not Path(path).is_file():
        raise ValueError(
            f"{resuming} trains with policy.bc_data {path!r}, which does not exist (any more); the BC term reads it again "
            f"on resume: put the dataset back, or point policy.bc_data in {resuming / CONFIG_FILE} at a copy"
        )
    dataset = load_bc_data(path, model.observation_space, model.action_space)
    return BCRegularizer(dataset, config.policy.bc_weight)


def train(
    config: ExperimentConfig,
    *,
    callbacks: list[Any] | tuple[Any, ...] = (),
    on_eval: Callable[[int, dict[str, Any]], bool | None] | None = None,
    progress_bar: bool = False,
    handle_signals: bool = True,
    on_start: Callable[[Path], None] | None = None,
) -> RunResult:
    """Train the agent `config` describes, in a new run directory; returns how it ended.

    :param callbacks: extra SB3 callbacks, called after rlkit's (NaN guard, env metrics, evaluation,
        checkpoints).
    :param on_eval: called as ``on_eval(step, metrics)`` after every periodic evaluation (``eval.every``);
        returning False stops training with status ``stopped`` (e.g. an Optuna pruner).
    :param progress_bar: show SB3's tqdm/rich progress bar.
    :param handle_signals: stop cleanly on SIGINT/SIGTERM (main thread only): checkpoint at the next
        rollout boundary, status ``interrupted``.
    :param on_start: called with the run directory once it exists (e.g. to print it).
    :raises ValueError: bad config (unknown env/algo/encoder/key, an algo that does not fit the env, …),
        before anything is written.
    """
    algo = validate(config)
    config = _with_pretrained_encoder(config, algo)
    if config.policy.bc_data is not None:  # resume reads it again, maybe from another working directory
        policy = config.policy.model_copy(update={"bc_data": str(Path(config.policy.bc_data).resolve())})
        config = config.model_copy(update={"policy": policy})
    if config.gail is not None:  # the same
        config = config.model_copy(update={"gail": config.gail.model_copy(update={"demos": str(Path(config.gail.demos).resolve())})})
    env = make_vec_env(config)
    gail: list[Any] = []
    try:
        if config.gail is not None:
            from rlkit.pretrain.gail.reward import attach_gail

            env, gail = attach_gail(env, config.gail, config.seed)
        model = algo.build(config, env)
        _load_pretrained(model, config)
        regularizer = _bc_regularizer(model, config)
    except BaseException:
        env.close()
        raise
    run_dir = create_run_dir(config)
    try:
        save_config(config, run_dir / CONFIG_FILE)
        from rlkit.tb import make_logger

        model.set_logger(make_logger(run_dir))
        if on_start is not None:
            on_start(run_dir)
        return _learn(model, env, config, run_dir, True, [*callbacks, *gail], on_eval, progress_bar, handle_signals, regularizer)
    except BaseException:
        if latest_checkpoint(run_dir / CHECKPOINT_DIR) is None:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        env.close()


def resume(
    run_dir: str | Path,
    *,
    device: str | None = None,
    steps: int | None = None,
    callbacks: list[Any] | tuple[Any, ...] = (),
    on_eval: Callable[[int, dict[str, Any]], bool | None] | None = None,
    progress_bar: bool = False,
    handle_signals: bool = True,
    on_start: Callable[[Path, int], None] | None = None,
) -> RunResult:
    """Continue a run from its newest checkpoint to its configured ``total_steps``, as if never stopped:
    weights, optimizer, step counter and schedules, normalization, replay buffer, env state and RNG
    states all come from the checkpoint, and TensorBoard events continue the same step axis (events
    after the checkpoint, from the run that stopped, are purged). `on_start(run_dir, step)` is called
    once the checkpoint is loaded; the other arguments are `train`'s.

    :param steps: a new ``total_steps`` (a finished run is extended): it must exceed the checkpoint's
        step, and is written to the run's ``config.yaml`` (atomically) before training goes on. SB3's
        schedules read progress against the new total, so with a decaying schedule the extended run
        differs from one configured with the new total from the start; constant ones give the same run."""
    from agents import get_algo

    from rlkit.tb import make_logger

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if device is not None:
        config = config.model_copy(update={"device": device})
    validate(config)
    algo = get_algo(config.algo)
    ckpt = latest_checkpoint(run_dir / CHECKPOINT_DIR)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint to resume from")
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= ckpt.step:
            raise ValueError(
                f"--steps {steps}: {run_dir} has already trained {ckpt.step:,} steps; give a new total above that "
                f"(e.g. --steps {max(2 * ckpt.step, ckpt.step + 1)})"
            )
        config = config.model_copy(update={"total_steps": int(steps)})
    state = read_checkpoint(ckpt)
    env_obs, env_act = env_spaces(config)
    check_spaces(ckpt.model_path, state["observation_space"], state["action_space"], env_obs, env_act, config.env.id)
    env = restore_env(state, fallback=make_vec_env(config) if state["env"] is None else None)
    try:
        verify_zip(ckpt.model_path)
        model = algo.load(ckpt.model_path, env, config.device)
        restore_training_state(model, state)
        if state["env"] is None:
            # A SubprocVecEnv's copies live in other processes and are not checkpointed: they restart
            # their episodes here (seeded from the step, so that a resume is still reproducible).
            print(f"rlkit: {config.env.vectorization} env state is not checkpointed; episodes restart on resume", file=sys.stderr)
            env.seed(config.seed + ckpt.step)
            model._last_obs = None
        if model.num_timesteps >= config.total_steps and (run_dir / METRICS_FILE).is_file():
            metrics = json.loads((run_dir / METRICS_FILE).read_text())
            return RunResult(run_dir, "finished", int(model.num_timesteps), metrics,
                             f"already finished ({model.num_timesteps} of {config.total_steps} steps)", checkpoint=ckpt, model=model)  # fmt: skip
        regularizer = _bc_regularizer(model, config, resuming=run_dir)
        gail: list[Any] = []
        if config.gail is not None:
            from rlkit.pretrain.gail.reward import gail_callbacks

            gail = gail_callbacks(env, config.gail, run_dir)
        if steps is not None:
            # Only once the checkpoint has loaded: a refused resume leaves the run as it was. The model
            # and device stay the run's (`device` is an override for this session, not saved).
            saved = read_run_config(run_dir)
            if saved.total_steps != config.total_steps:
                save_config(saved.model_copy(update={"total_steps": config.total_steps}), run_dir / CONFIG_FILE)
        # Events at the checkpoint's step were written before it; later ones (by the run that stopped) are purged.
        logger = make_logger(run_dir, purge_step=ckpt.step + 1)
        restore_pending_logs(logger, state["extra"].get("logger"))
        model.set_logger(logger)
        if on_start is not None:
            on_start(run_dir, ckpt.step)
        return _learn(model, env, config, run_dir, False, [*callbacks, *gail], on_eval, progress_bar, handle_signals, regularizer)
    finally:
        env.close()
