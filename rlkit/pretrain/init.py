"""Start a policy from a pretrained checkpoint (``policy.init_encoder``, ``policy.init_policy``, ``policy.freeze_encoder``).

``resolve_policy_config(policy_config, sequence)``, before the agent is built: the policy's encoder name
and kwargs come from the checkpoint (or, when given, must equal it: a mismatch is a one-line ``ValueError``
showing both), so the agent is built with the architecture the weights fit. `policy_encoders` finds the
rlkit encoders a built policy reads through and `freeze` freezes one; loading the weights into an SB3
policy (encoders and actor head) is ``agents.pretrained.initialize``, which knows SB3's policy layout.
"""

from __future__ import annotations

from typing import Any

import torch

from rlkit.nn.checkpoint import _network_config, read_checkpoint
from rlkit.nn.encoders import Encoder
from rlkit.pretrain.bc import read_policy_checkpoint

_NOT_NETWORK = ("seed", "sequence")  # checkpoint config entries that are not policy encoder_kwargs


def encoder_checkpoint_of(policy_config: Any) -> dict[str, Any] | None:
    """The encoder checkpoint a policy config starts from: ``init_encoder``'s, or ``init_policy``'s embedded one."""
    if policy_config.init_encoder is not None and policy_config.init_policy is not None:
        raise ValueError("got both `policy.init_encoder` and `policy.init_policy`; the policy checkpoint holds its encoder: give only `policy.init_policy`")
    if policy_config.init_policy is not None:
        return read_checkpoint(read_policy_checkpoint(policy_config.init_policy)["encoder"])
    if policy_config.init_encoder is not None:
        try:
            return read_checkpoint(policy_config.init_encoder)
        except ValueError as exc:
            if "rlkit.pretrain.policy/1" in str(exc):
                raise ValueError(
                    f"`policy.init_encoder` {policy_config.init_encoder!r} is a behaviour-cloning policy checkpoint; "
                    "give it as `policy.init_policy` (or the encoder.pt beside it as `policy.init_encoder`)"
                ) from None
            raise
    return None


def resolve_policy_config(policy_config: Any, sequence: bool) -> Any:
    """``policy_config`` with ``encoder``/``encoder_kwargs`` taken from the init checkpoint (a copy; unchanged without one).

    :param sequence: whether the agent reads a per-step sequence encoder (sequence PPO).
    """
    data = encoder_checkpoint_of(policy_config)
    if data is None:
        if policy_config.freeze_encoder:
            raise ValueError("got `policy.freeze_encoder` without `policy.init_encoder` or `policy.init_policy`; freezing a random encoder is a mistake")
        return policy_config
    name, config = data["name"], dict(data["config"])
    source = policy_config.init_encoder or policy_config.init_policy
    is_sequence = bool(config.get("sequence", False))
    if is_sequence != sequence:
        kind = "a per-step sequence encoder (from `rlkit pretrain seq`)" if is_sequence else f"a feed-forward {name!r} encoder"
        want = "ppo-seq" if is_sequence else "an SB3 agent (ppo, a2c, sac, …)"
        raise ValueError(f"checkpoint {source!r} holds {kind}; it starts {want}, not this agent")
    if policy_config.encoder is not None and policy_config.encoder != name:
        raise ValueError(
            f"got `policy.encoder` {policy_config.encoder!r} with checkpoint {source!r} of a {name!r} encoder; "
            f"drop `policy.encoder` (the checkpoint's is used) or give `policy.encoder={name}`"
        )
    kwargs = {k: v for k, v in config.items() if k not in _NOT_NETWORK}
    given = dict(policy_config.encoder_kwargs)
    if given and _network_config({k: v for k, v in given.items() if k not in _NOT_NETWORK}) != _network_config(
        {k: kwargs.get(k) for k in given if k not in _NOT_NETWORK}
    ):
        raise ValueError(
            f"got encoder kwargs {given} with checkpoint {source!r} made with {kwargs}; drop them (the checkpoint's are used)"
        )
    return policy_config.model_copy(update={"encoder": name, "encoder_kwargs": kwargs})


def policy_encoders(policy: torch.nn.Module) -> list[tuple[Encoder, torch.nn.Module]]:
    """The rlkit encoders a policy reads observations through, each with the module that holds it.

    Every outermost encoder counts (not the per-step ``inner`` of a sequence encoder, nor the parts
    of a dict encoder): each SB3 features extractor's (the actor's, the critics', the target
    critics'), and sequence PPO's ``encoder`` and ``critic_encoder``."""
    found: list[tuple[Encoder, torch.nn.Module]] = []
    seen: set[int] = set()
    for module in policy.modules():
        if isinstance(module, Encoder):
            continue
        for child in module.children():
            if isinstance(child, Encoder) and id(child) not in seen:
                seen.add(id(child))
                found.append((child, module))
    return found


def freeze(encoder: Encoder, owner: torch.nn.Module | None = None) -> None:
    """No gradients and eval mode (fixed BatchNorm statistics, no dropout) for ``encoder``."""
    encoder.requires_grad_(False)
    encoder.eval()
    if owner is not None and hasattr(owner, "frozen"):
        # EncoderExtractor and sequence PPO's policy keep their encoders in eval mode through
        # policy.train(), and save the flag with the model so that a resumed run stays frozen.
        owner.frozen = True
