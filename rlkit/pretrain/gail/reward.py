"""GAIL's reward in an SB3 run: a ``VecEnvWrapper`` that replaces the env's rewards by the discriminator's, and a
callback that trains the discriminator on each rollout.

``GailReward`` remembers the observation each env copy acts from (the reset one after an episode ends) and the
actions given to ``step_async``; ``step_wait`` returns ``Gail.reward(observation, action)`` in place of the env's
reward (the env's own return is still what ``Monitor`` records: ``rollout/ep_rew_mean`` and evaluations stay in
the env's units), and keeps the pairs of the current rollout. ``GailCallback.on_rollout_end`` trains the
discriminator on those pairs against the demonstrations, clears them, and logs ``gail/disc_loss``,
``gail/expert_acc`` and ``gail/agent_acc``. Rewards are those of the discriminator when the step was taken: an
off-policy agent (sac) keeps them in its replay buffer as they were.

With an absorbing state (``gail.absorbing``, `rlkit.pretrain.gail.discriminator`), a step that ends its episode in
a terminal state (``done`` without ``TimeLimit.truncated``) gets ``r(s, a) + gamma / (1 - gamma) * r_absorbing``,
the discounted return of staying in the absorbing state for ever (``gamma``: the agent's, set by the callback when
training starts), and counts one absorbing pair for the discriminator; a time limit adds nothing (the agent
bootstraps there).

The wrapper sits under ``VecNormalize`` (it sees raw observations, as the demonstrations hold them) and holds the
`Gail` object, so rlkit's checkpoints, which pickle the env stack, carry the discriminator, its optimizer and its
RNG: a resumed run goes on exactly. ``attach_gail`` builds both for a new run; ``gail_callbacks`` finds the
wrapper in a restored env and reads the demonstrations again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize, unwrap_vec_wrapper

from rlkit.callbacks import GailCallback
from rlkit.pretrain.dataset import Dataset, check_spaces, load_dataset
from rlkit.pretrain.gail.discriminator import Gail

ALGOS = ("ppo", "a2c", "sac", "td3")
"""The SB3 agents GAIL's reward is fed to."""


class GailReward(VecEnvWrapper):
    """The discriminator's reward in place of the env's (module docstring)."""

    def __init__(self, venv: VecEnv, gail: Gail, gamma: float | None = None) -> None:
        super().__init__(venv)
        self.gail, self.gamma = gail, gamma
        self.agent_absorbing = 0
        self._last_obs: np.ndarray | None = None
        self._actions: np.ndarray | None = None
        self.agent_obs: list[np.ndarray] = []
        self.agent_actions: list[np.ndarray] = []

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("gamma", None)  # pickled (checkpointed) before gail.absorbing existed
        state.setdefault("agent_absorbing", 0)
        self.__dict__.update(state)

    def reset(self) -> Any:
        self._last_obs = self.venv.reset()
        return self._last_obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).copy()
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        obs, _, dones, infos = self.venv.step_wait()
        if self._last_obs is None:
            raise RuntimeError("GailReward stepped before reset")
        actions = self._actions.reshape(len(dones), *self.action_space.shape)
        rewards = self.gail.reward(self._last_obs, actions)
        if self.gail.absorbing:
            terminal = np.array([bool(d) and not info.get("TimeLimit.truncated", False) for d, info in zip(dones, infos)])
            if terminal.any():
                if self.gamma is None or not 0 <= self.gamma < 1:
                    raise RuntimeError(f"GAIL's absorbing state needs the agent's discount gamma in [0, 1); got {self.gamma}")
                rewards[terminal] += np.float32(self.gamma / (1 - self.gamma) * self.gail.absorbing_reward())
                self.agent_absorbing += int(terminal.sum())
        self.agent_obs.append(np.asarray(self._last_obs).copy())
        self.agent_actions.append(actions)
        self._last_obs = obs  # a finished copy's is its reset observation, which the next action is taken from
        return obs, rewards, dones, infos

    def take_transitions(self) -> tuple[np.ndarray, np.ndarray]:
        """The pairs stepped since the last call, ``(N, *obs_shape)`` and ``(N, *act_shape)``; then forgets them."""
        obs, actions = np.concatenate(self.agent_obs), np.concatenate(self.agent_actions)
        self.agent_obs, self.agent_actions = [], []
        return obs, actions

    def take_absorbing(self) -> int:
        """Episodes ended in a terminal state since the last call (absorbing pairs for the discriminator); then 0."""
        count, self.agent_absorbing = self.agent_absorbing, 0
        return count


def load_demos(path: str, env: VecEnv) -> Dataset:
    """The dataset at ``path``, checked against the env's spaces (one line naming both where they differ)."""
    demos = load_dataset(path)
    check_spaces(demos, env.observation_space, env.action_space, target="the env (`gail.demos`)")
    if len(demos) == 0:
        raise ValueError(f"`gail.demos` {path!r} holds no steps; collect some with `rlkit collect`")
    return demos


def check_gail_config(gail_config: Any, algo: str, vectorization: str) -> None:
    """One line for what GAIL cannot do: another agent, or env copies in subprocesses (not checkpointed)."""
    if algo not in ALGOS:
        raise ValueError(f"GAIL feeds its reward to {', '.join(ALGOS)}; got algo {algo!r}")
    if vectorization == "subproc":
        raise ValueError("GAIL's discriminator lives in the env stack, which env.vectorization=subproc does not checkpoint; use auto or dummy")
    if not Path(gail_config.demos).is_file():
        raise FileNotFoundError(f"`gail.demos` {gail_config.demos!r} does not exist (write one with `rlkit collect`)")


def attach_gail(env: VecEnv, gail_config: Any, seed: int) -> tuple[VecEnv, list[BaseCallback]]:
    """``(env with GailReward under any VecNormalize, [GailCallback])`` for a new run of ``gail_config``."""
    demos = load_demos(gail_config.demos, env)
    gail = Gail(demos, gail_config.encoder, dict(gail_config.encoder_kwargs), gail_config.hidden, gail_config.learning_rate,
                gail_config.batch_size, gail_config.epochs, gail_config.reward, seed, gail_config.absorbing)  # fmt: skip
    if isinstance(env, VecNormalize):
        wrapper = GailReward(env.venv, gail)
        env.venv = wrapper
    else:
        wrapper = env = GailReward(env, gail)
    return env, [GailCallback(wrapper, demos)]


def gail_callbacks(env: VecEnv, gail_config: Any, run_dir: Path) -> list[BaseCallback]:
    """``[GailCallback]`` for a run resumed from a checkpoint whose env stack holds the wrapper."""
    wrapper = unwrap_vec_wrapper(env, GailReward)
    if wrapper is None:
        raise ValueError(f"{run_dir} trains with GAIL but its checkpoint's env holds no discriminator; it cannot be resumed")
    path = gail_config.demos
    if not Path(path).is_file():
        raise ValueError(f"{run_dir} trains with gail.demos {path!r}, which does not exist (any more); put the dataset back, "
                         f"or point gail.demos in {run_dir / 'config.yaml'} at a copy (and delete its checksum line)")  # fmt: skip
    return [GailCallback(wrapper, load_demos(path, env))]
