"""Evaluation of an agent: mean ± std return over seeded episodes, action masks, and the one-line summary."""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any, Sequence

import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from rlkit.app.config import ExperimentConfig
from rlkit.app.env_factory import make_env


def uses_action_masks(model: Any) -> bool:
    """Whether `model` acts with the env's ``info["action_mask"]``: its ``predict`` takes ``action_masks``
    (``ppo-seq``, ``dqn-seq``; SB3's own agents do not) and it was not trained without them (``use_action_masks``)."""
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
    used, frozen. `reset_options`: one ``options`` dict per episode, passed to its reset (e.g. HVAC's
    ``{"start_day": d}``, to run given weeks); None resets without options."""

    MAX_STEPS = 1_000_000  # per evaluation: an env without a time limit must not hang training

    def __init__(self, config: ExperimentConfig, episodes: int | None = None, seed: int | None = None,
                 deterministic: bool | None = None, normalize_from: Any = None,
                 reset_options: Sequence[dict[str, Any]] | None = None):  # fmt: skip
        self.episodes = episodes or config.eval.episodes
        if reset_options is not None and len(reset_options) != self.episodes:
            raise ValueError(f"evaluation: {len(reset_options)} reset options for {self.episodes} episodes; give one per episode")
        self.reset_options = None if reset_options is None else [dict(options) for options in reset_options]
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
        if isinstance(self.env, VecNormalize):
            self.env.obs_rms = self.normalize_from.obs_rms.copy()
        n = self.episodes
        returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
        finished = np.zeros(n, dtype=bool)
        metrics: dict[str, list[float]] = {}
        self.env.seed(self.seed)
        if self.reset_options is not None:
            self.env.set_options(self.reset_options)  # used by the next reset only (SB3's VecEnv)
        obs = self.env.reset()
        # The current observations' infos: a finished copy's is its reset info (SB3 keeps it in reset_infos).
        reset_infos = self.env.unwrapped.reset_infos
        current = list(reset_infos)
        masked = uses_action_masks(model)
        # A policy that reads the previous reward (ppo-seq's policy.prev_reward) is given it.
        rewarded = bool(getattr(getattr(getattr(model, "policy", None), "previous", None), "prev_reward", False))
        state, starts, rewards = None, np.ones(n, dtype=bool), np.zeros(n, dtype=np.float32)
        for _ in range(self.MAX_STEPS):
            if finished.all():
                break
            kwargs = {"action_masks": action_masks(current)} if masked else {}
            if rewarded:
                kwargs["reward"] = rewards
            actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=self.deterministic, **kwargs)
            obs, rewards, dones, infos = self.env.step(actions)
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
