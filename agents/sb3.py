"""stable-baselines3 (and sb3-contrib) algorithms wired with rlkit's encoders and rollout buffers.

Thin on purpose: SB3 does the learning. rlkit adds three things when it builds a model from an
`rlkit.app.config.ExperimentConfig`:

* PPO, A2C and TRPO get ``rollout_buffer_class=rlkit.buffers.NumbaRolloutBuffer`` (the Dict variant
  for dict observations), whose GAE is rlkit's Numba kernel;
* ``policy.encoder`` picks an rlkit encoder as the features extractor
  (``rlkit.nn.sb3.EncoderExtractor``); unset keeps SB3's default extractor;
* Zoo-style config values: ``lin_<x>`` schedules, ``train_freq: [4, step]``, and
  ``action_noise: {type: normal|ornstein-uhlenbeck, sigma: 0.1}``.

``rlkit --help`` imports this module (it registers the algorithms' names), so NumPy, Gymnasium,
torch, SB3 and ``rlkit.nn`` are imported inside the functions that use them, not at the top.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import zipfile
from functools import partial
from typing import Any

from agents import ON_POLICY_SPACES, AlgoSpec, register_algo

# Constructor arguments that rlkit sets from other config fields.
RESERVED_KWARGS = {
    "self", "policy", "env", "seed", "device", "verbose", "policy_kwargs", "tensorboard_log",
    "_init_setup_model", "rollout_buffer_class", "kwargs", "args",
}  # fmt: skip
ON_POLICY = {"ppo", "a2c", "trpo"}


def _resolve(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def valid_kwargs(class_path: str) -> list[str]:
    parameters = inspect.signature(_resolve(class_path).__init__).parameters
    return [name for name in parameters if name not in RESERVED_KWARGS]


def policy_name(observation_space: Any, encoder: str | None) -> str:
    """SB3's policy alias for a space: dict → MultiInputPolicy, image (no encoder) → CnnPolicy, else MlpPolicy."""
    from gymnasium import spaces
    from stable_baselines3.common.preprocessing import is_image_space

    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    if encoder is None and is_image_space(observation_space, check_channels=False):
        return "CnnPolicy"
    return "MlpPolicy"


def policy_kwargs(policy_config: Any) -> dict[str, Any]:
    """``policy_kwargs`` for SB3 from an `rlkit.app.config.PolicyConfig`."""
    kwargs = dict(policy_config.kwargs)
    if policy_config.encoder is not None:
        from rlkit.nn import encoder_names
        from rlkit.nn.sb3 import EncoderExtractor

        names = encoder_names()
        if policy_config.encoder not in names:
            raise ValueError(f"unknown encoder {policy_config.encoder!r}; choose one of: {', '.join(names)}")
        kwargs["features_extractor_class"] = EncoderExtractor
        kwargs["features_extractor_kwargs"] = dict(encoder=policy_config.encoder, **policy_config.encoder_kwargs)
        if policy_config.freeze_encoder:  # saved with the model, so a resumed run stays frozen
            kwargs["features_extractor_kwargs"]["freeze"] = True
    elif policy_config.encoder_kwargs:
        raise ValueError("policy.encoder_kwargs are set but policy.encoder is not; name an encoder with --encoder")
    if policy_config.net_arch is not None:
        kwargs["net_arch"] = policy_config.net_arch
    if policy_config.activation_fn is not None:
        kwargs["activation_fn"] = activation_class(policy_config.activation_fn)
    return kwargs


def activation_class(name: str) -> type:
    """The ``torch.nn`` activation module named by ``policy.activation_fn`` (e.g. ``Tanh``)."""
    import torch.nn

    activation = getattr(torch.nn, name, None)
    if not (isinstance(activation, type) and issubclass(activation, torch.nn.Module)):
        raise ValueError(
            f"policy.activation_fn {name!r} is not a torch.nn module; expected e.g. Tanh, ReLU, ELU, LeakyReLU, GELU, SiLU"
        )
    return activation


# The algorithms' arguments that take a number or a schedule (SB3's PPO, A2C, SAC, TD3, DQN, …; sequence PPO).
SCHEDULE_KWARGS = ("learning_rate", "clip_range", "clip_range_vf")


def algo_kwargs(raw: dict[str, Any], action_space: Any) -> dict[str, Any]:
    """Config values → SB3 objects: ``lin_<x>`` → LinearSchedule(x → 0), lists → tuples, action noise."""
    from stable_baselines3.common.utils import LinearSchedule

    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value.startswith("lin_"):
            try:
                start = float(value[4:])
            except ValueError:
                raise ValueError(f"algo_kwargs.{key}: {value!r} is not a schedule; expected lin_<number>, e.g. lin_0.001") from None
            value = LinearSchedule(start, 0.0, 1.0)
        elif isinstance(value, str) and key in SCHEDULE_KWARGS:
            # Else SB3 fails later with "must be a float or a callable", which does not say what would do.
            raise ValueError(f"algo_kwargs.{key}: {value!r} is neither a number nor a schedule; expected e.g. 0.001 or lin_0.001")
        elif key == "train_freq" and isinstance(value, list):
            value = tuple(value)
        elif key == "action_noise" and isinstance(value, dict):
            value = _action_noise(value, action_space)
        out[key] = value
    return out


def _action_noise(spec: dict[str, Any], action_space: Any) -> Any:
    import numpy as np
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    kinds = {"normal": NormalActionNoise, "ornstein-uhlenbeck": OrnsteinUhlenbeckActionNoise}
    kind = spec.get("type")
    if kind not in kinds or set(spec) - {"type", "sigma"}:
        raise ValueError(f"algo_kwargs.action_noise {spec!r}: expected {{type: normal|ornstein-uhlenbeck, sigma: <float>}}")
    dim = int(np.prod(action_space.shape))
    return kinds[kind](mean=np.zeros(dim), sigma=float(spec.get("sigma", 0.1)) * np.ones(dim))


def build(name: str, class_path: str, config: Any, env: Any, rollout_buffer_class: Any = "numba") -> Any:
    """A fresh SB3 model for `config` on the vec env `env`.

    `rollout_buffer_class`: ``"numba"`` (rlkit's buffers, the default), ``None`` (SB3's own), or a class.
    """
    cls = _resolve(class_path)
    valid = valid_kwargs(class_path)
    unknown = [key for key in config.algo_kwargs if key not in valid]
    if unknown:
        close = difflib.get_close_matches(unknown[0], valid, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"{cls.__name__} does not take algo_kwargs.{unknown[0]}; {hint}valid: {', '.join(valid)}"
        )
    previous = [key for key in ("prev_action", "prev_reward") if getattr(config.policy, key, False)]
    if previous:
        raise ValueError(f"{name} does not read policy.{previous[0]}; the previous action and reward are inputs of ppo-seq")
    kwargs = algo_kwargs(config.algo_kwargs, env.action_space)
    if name in ON_POLICY:
        if rollout_buffer_class == "numba":
            from gymnasium import spaces

            from rlkit.buffers import NumbaDictRolloutBuffer, NumbaRolloutBuffer

            is_dict = isinstance(env.observation_space, spaces.Dict)
            rollout_buffer_class = NumbaDictRolloutBuffer if is_dict else NumbaRolloutBuffer
        if rollout_buffer_class is not None:
            kwargs["rollout_buffer_class"] = rollout_buffer_class
    try:
        return cls(
            policy_name(env.observation_space, config.policy.encoder),
            env,
            seed=config.seed,
            device=config.device,
            verbose=0,
            policy_kwargs=policy_kwargs(config.policy) or None,
            **kwargs,
        )
    except (TypeError, AssertionError, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{cls.__name__} rejected the config: {message}") from exc


def load(class_path: str, path: Any, env: Any = None, device: str = "auto") -> Any:
    """Load a saved model; with `env`, ready to continue training where it stopped (no env reset)."""
    return _resolve(class_path).load(path, env=env, device=device, force_reset=False)


def saved_spaces(path: Any) -> tuple[Any, Any]:
    """Observation and action space stored in an SB3 zip, read without loading the weights."""
    from stable_baselines3.common.save_util import json_to_data

    with zipfile.ZipFile(path) as archive:
        data = json_to_data(archive.read("data").decode())
    return data["observation_space"], data["action_space"]


def _register(name: str, class_path: str, summary: str, action_spaces: tuple[str, ...], off_policy: bool) -> None:
    register_algo(
        AlgoSpec(
            name=name,
            summary=summary,
            action_spaces=action_spaces,
            build=partial(build, name, class_path),
            load=partial(load, class_path),
            saved_spaces=saved_spaces,
            valid_kwargs=partial(valid_kwargs, class_path),
            off_policy=off_policy,
            extra={"class_path": class_path},
        ),
        replace=True,
    )


_register("ppo", "stable_baselines3:PPO", "Proximal Policy Optimization (SB3)", ON_POLICY_SPACES, False)
_register("a2c", "stable_baselines3:A2C", "Advantage Actor-Critic (SB3)", ON_POLICY_SPACES, False)
_register("dqn", "stable_baselines3:DQN", "Deep Q-Network (SB3)", ("Discrete",), True)
_register("sac", "stable_baselines3:SAC", "Soft Actor-Critic (SB3)", ("Box",), True)
_register("td3", "stable_baselines3:TD3", "Twin Delayed DDPG (SB3)", ("Box",), True)
_register("ddpg", "stable_baselines3:DDPG", "Deep Deterministic Policy Gradient (SB3)", ("Box",), True)
if importlib.util.find_spec("sb3_contrib") is not None:
    _register("trpo", "sb3_contrib:TRPO", "Trust Region Policy Optimization (sb3-contrib)", ON_POLICY_SPACES, False)
    _register("qrdqn", "sb3_contrib:QRDQN", "Quantile Regression DQN (sb3-contrib)", ("Discrete",), True)
    _register("tqc", "sb3_contrib:TQC", "Truncated Quantile Critics (sb3-contrib)", ("Box",), True)
