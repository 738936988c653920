"""gSDE exploration noise in checkpoints: SB3's zip leaves out the matrices of a
``StateDependentNoiseDistribution`` (plain attributes, not parameters or buffers), and a resumed run
must act with the same ones and not draw them again."""

from __future__ import annotations

from typing import Any

import torch
from stable_baselines3.common.distributions import StateDependentNoiseDistribution
from torch.distributions import Normal

from rlkit.checkpoints.bundle import CheckpointError


def _sde_distributions(model: Any) -> dict[str, Any]:
    """The policy's gSDE distributions by module name (``""`` for PPO/A2C's policy, ``"actor"`` for SAC's)."""
    policy = getattr(model, "policy", None)
    if policy is None:
        return {}
    found: dict[str, Any] = {}
    for name, module in policy.named_modules():
        dist = getattr(module, "action_dist", None)
        if isinstance(dist, StateDependentNoiseDistribution) and all(dist is not d for d in found.values()):
            found[name] = dist
    return found


def capture_sde_noise(model: Any, drawn: bool) -> dict[str, Any] | None:
    """The policy's current gSDE matrices (None without gSDE); `drawn`: taken after this rollout's draw."""
    # A straight run acts with them until the next draw (the whole rollout where sde_sample_freq is -1),
    # and drawing them again would also shift the torch RNG stream.
    dists = _sde_distributions(model)
    if not dists:
        return None
    matrices = {
        name: {
            "exploration_mat": dist.exploration_mat.detach().cpu().clone(),
            "exploration_matrices": dist.exploration_matrices.detach().cpu().clone(),
            "weights_std": dist.weights_dist.stddev.detach().cpu().clone(),
        }
        for name, dist in dists.items()
    }
    return {"drawn": drawn, "matrices": matrices}


def restore_sde_noise(model: Any, saved: dict[str, Any]) -> None:
    """Put `capture_sde_noise`'s matrices back (and skip the next draw where they were drawn already)."""
    dists = _sde_distributions(model)
    device = model.policy.device
    for name, tensors in saved["matrices"].items():
        dist = dists.get(name)
        if dist is None:
            raise CheckpointError(
                f"the checkpoint holds gSDE noise for policy module {name!r}, which this model lacks; "
                "resume it with the policy config it was trained on"
            )
        std = tensors["weights_std"].to(device)
        dist.weights_dist = Normal(torch.zeros_like(std), std)
        dist.exploration_mat = tensors["exploration_mat"].to(device)
        dist.exploration_matrices = tensors["exploration_matrices"].to(device)
        if saved["drawn"]:
            _skip_next_draw(dist)


def _skip_next_draw(dist: Any) -> None:
    """Make the distribution's next ``sample_weights`` keep the restored matrices and draw nothing.

    The checkpoint was taken after ``collect_rollouts`` drew this rollout's noise; the resumed run
    re-enters ``collect_rollouts`` and would draw it a second time."""
    restored = len(dist.exploration_matrices)

    def sample_weights(log_std: Any, batch_size: int = 1) -> None:
        del dist.sample_weights  # the class's method again from the next call on
        if batch_size != restored:  # not the draw that was checkpointed (another n_envs): draw as SB3 does
            dist.sample_weights(log_std, batch_size)

    dist.sample_weights = sample_weights
