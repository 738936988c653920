"""Config fields and the ``rlkit`` options that set them: the library's errors name fields, the CLI shows options.

A library message marks a field it names with backticks: `` `policy.init_policy` ``, or with the value that
would fix it, `` `policy.encoder=cnn` ``. `with_flags` rewrites each for the command line: a field with an
option of its own becomes that option (``--init-policy``, ``--encoder cnn``), a key of a kwargs field becomes
the kwargs option (``--algo-kwargs use_sde=false``), and any other field with a value becomes ``--set``
(``--set policy.activation_fn=Tanh``). Backticked text that names no field (`` `rlkit collect` ``) is kept.
"""

from __future__ import annotations

import re
import shlex

FIELD_FLAGS: dict[str, str] = {
    # rlkit train
    "policy.encoder": "--encoder",
    "policy.init_encoder": "--init-encoder",
    "policy.init_policy": "--init-policy",
    "policy.freeze_encoder": "--freeze-encoder",
    "policy.critic_warmup_steps": "--critic-warmup-steps",
    "policy.bc_data": "--bc-data",
    "policy.bc_weight": "--bc-weight",
    "gail.demos": "--demos",
    "n_envs": "--n-envs",
    "seed": "--seed",
    "total_steps": "--steps",
    "device": "--device",
    "threads": "--threads",
    "logdir": "--logdir",
    "eval.every": "--eval-every",
    "eval.episodes": "--eval-episodes",
    "checkpoint_every": "--checkpoint-every",
    # rlkit pretrain: the arguments of train_vae / train_bc / train_seq
    "encoder": "--encoder",
    "head": "--head",
}
"""Field (or pretraining argument) -> the option that sets it."""

KWARG_FLAGS: dict[str, str] = {
    "algo_kwargs": "--algo-kwargs",
    "policy.encoder_kwargs": "--encoder-kwargs",
    "env.kwargs": "--env-kwargs",
}
"""Mapping fields -> the option that sets their keys (``KEY=VALUE``)."""

_MARKED = re.compile(r"`([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*)(?:=([^`]*))?`")


def _option(match: re.Match) -> str:
    path, value = match.group(1), match.group(2)
    if path in FIELD_FLAGS:
        return FIELD_FLAGS[path] if value is None else f"{FIELD_FLAGS[path]} {shlex.quote(value)}"
    for field, flag in KWARG_FLAGS.items():
        if path.startswith(field + "."):
            key = path[len(field) + 1 :]
            return f"{flag} {key}" if value is None else f"{flag} {shlex.quote(f'{key}={value}')}"
    if value is not None and "." in path:
        return f"--set {path}={shlex.quote(value)}"
    return match.group(0)


def with_flags(message: str) -> str:
    """`message` with every backticked field replaced by the option that sets it (see the module docstring)."""
    return _MARKED.sub(_option, message)
