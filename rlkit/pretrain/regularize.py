"""Keep an off-policy actor near demonstrations (TD3+BC, Fujimoto & Gu 2021): ``policy.bc_data`` and ``policy.bc_weight``.

SAC from a behaviour-cloned actor follows the critic's action-gradient far from the data the clone was fitted to,
where the critic's estimates are guesses, and falls below its teacher. TD3+BC adds to the actor loss a
behaviour-cloning term, ``W * mean((actor(s) - a)^2)`` over ``(s, a)`` pairs of an ``rlkit collect`` dataset, with
both actions in SB3's scaled units ([-1, 1], ``policy.scale_action``) and the actor's deterministic action (SAC/TQC:
the squashed mean; TD3/DDPG: ``mu``). Off-policy actor-critics only: sac, tqc, td3, ddpg.

`rlkit.callbacks.BCRegularizer` (given ``agents.pretrained.deterministic_action``, added to the run's callbacks on
resume too) does it without copying SB3's ``train()``; this module holds its config checks and dataset loading.
"""

from __future__ import annotations

from typing import Any


from rlkit.pretrain.dataset import Dataset, check_spaces, load_dataset

ALGOS = ("sac", "tqc", "td3", "ddpg")
"""The algorithms whose actor a BC term can anchor: SB3's off-policy actor-critics with a deterministic action."""


def check_bc_config(policy_config: Any, algo: str) -> None:
    """``bc_weight`` and ``bc_data`` go together, on sac/tqc/td3/ddpg: one line saying what is missing otherwise."""
    weight, data = float(policy_config.bc_weight), policy_config.bc_data
    if weight > 0 and data is None:
        raise ValueError(
            f"got `policy.bc_weight` {weight:g} without `policy.bc_data`; the BC term needs demonstrations: "
            "add `policy.bc_data=DATASET.npz` (from `rlkit collect`), or set the weight to 0"
        )
    if data is not None and weight == 0:
        raise ValueError(
            f"got `policy.bc_data` {data!r} with `policy.bc_weight` 0; the dataset would be unused: "
            "add `policy.bc_weight=2.5` (or another weight), or drop `policy.bc_data`"
        )
    if data is not None and algo not in ALGOS:
        raise ValueError(
            f"`policy.bc_data` and `policy.bc_weight` regularise the actor of an off-policy actor-critic ({', '.join(ALGOS)}); "
            f"got algo {algo!r}: use one of those, or drop them"
        )


def load_bc_data(path: str, observation_space: Any, action_space: Any) -> Dataset:
    """The dataset at ``path``, checked against the agent's spaces (``rlkit.pretrain.dataset.check_spaces``)."""
    dataset = load_dataset(path)
    check_spaces(dataset, observation_space, action_space, target="the agent (`policy.bc_data`)")
    if len(dataset) == 0:
        raise ValueError(f"`policy.bc_data` {path!r} holds no steps; collect some with `rlkit collect`")
    return dataset
