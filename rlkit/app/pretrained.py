"""Pretrained policies as agents: ``rlkit eval``/``rlkit enjoy`` run a ``policy.pt`` of ``rlkit pretrain bc|diffusion``.

``load_policy_file(path, env_id, env_kwargs, device)`` returns what `rlkit.app.run_dir.load_agent` returns for a run
directory, ``(model, config, path, None)``: ``model`` has SB3's ``predict``, ``config`` an
`ExperimentConfig` whose env is ``env_id`` (default: the env of the dataset the policy was trained on) and whose
``algo`` names the pretraining task. A policy whose spaces differ from the env's is refused with both shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlkit.app.config import EnvConfig, ExperimentConfig
from rlkit.checkpoints import check_spaces
from rlkit.nn.spaces import space_from_dict

TASKS = {"rlkit.pretrain.policy/1": "bc", "rlkit.pretrain.diffusion/1": "diffusion"}


class ClonePolicy:
    """A `rlkit.pretrain.bc.BCPolicy` with SB3's ``predict``: its mode, or a draw of its distribution."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.observation_space = policy.encoder.observation_space
        self.action_space = policy.action_space

    @torch.no_grad()
    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False,
                **kwargs: Any) -> tuple[np.ndarray, None]:  # fmt: skip
        obs = np.asarray(observation)
        single = obs.shape == self.observation_space.shape
        batch = obs[None] if single else obs
        if deterministic:
            actions = self.policy.predict(batch)
        else:
            out = self.policy(batch)
            if self.policy.discrete:
                actions = (torch.distributions.Categorical(logits=out).sample() + int(self.action_space.start)).cpu().numpy()
            else:
                std = self.policy.log_std.exp().expand_as(out)
                draw = torch.distributions.Normal(out, std).sample().cpu().numpy()
                actions = np.clip(draw, self.action_space.low, self.action_space.high)
        return (actions[0] if single else actions), None


def read_task(path: str | Path) -> tuple[str, dict[str, Any]]:
    """``(task, checkpoint data)`` of a ``policy.pt``; any other file is a one-line ``ValueError``."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{str(path)!r} is a file but not a policy.pt of `rlkit pretrain bc|diffusion` ({type(exc).__name__}); "
                         "give a run directory of `rlkit train` or such a policy.pt") from None  # fmt: skip
    found = data.get("format") if isinstance(data, dict) else type(data).__name__
    if found not in TASKS:
        raise ValueError(f"{str(path)!r} holds {found!r}; expected a run directory of `rlkit train` or a policy.pt "
                         f"of `rlkit pretrain bc|diffusion` ({', '.join(TASKS)})")  # fmt: skip
    return TASKS[found], data


def load_policy_file(path: str | Path, env_id: str | None = None, env_kwargs: dict[str, Any] | None = None,
                     device: str = "auto") -> tuple[Any, ExperimentConfig, Path, None]:  # fmt: skip
    """Load a ``policy.pt`` as an agent for the env ``env_id`` (see the module docstring)."""
    from stable_baselines3.common.utils import get_device

    from rlkit.app.env_factory import make_env
    from rlkit.app.validation import check_device

    path = Path(path)
    task, data = read_task(path)
    metadata = dict(data.get("metadata") or {})
    if env_id is None:
        env_id = metadata.get("env_id")
        if not env_id or env_id == "unknown":
            raise ValueError(f"{path} does not name the env it was trained on; pass --env ID")
        env_kwargs = {**dict(metadata.get("env_kwargs") or {}), **dict(env_kwargs or {})}
    config = ExperimentConfig(env=EnvConfig(id=env_id, kwargs=dict(env_kwargs or {})), algo=task)
    check_device(device)
    env = make_env(config.env)
    try:
        saved_obs = space_from_dict(data["encoder"]["observation_space"])
        check_spaces(path, saved_obs, space_from_dict(data["action_space"]), env.observation_space, env.action_space, env_id)
    finally:
        env.close()
    if task == "diffusion":
        from rlkit.pretrain.diffusion.train import load_diffusion

        model: Any = load_diffusion(data).to(get_device(device))
    else:
        from rlkit.pretrain.bc import load_bc

        model = ClonePolicy(load_bc(data).to(get_device(device)))
    return model, config, path, None
