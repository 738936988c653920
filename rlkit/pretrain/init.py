"""Start a policy from a pretrained checkpoint: ``rlkit train … --init-encoder CKPT [--freeze-encoder]`` and ``--init-policy CKPT``.

Two steps, both called by ``rlkit.app.training.train``:

1. ``resolve_policy_config(policy_config, sequence)`` before the agent is built: the policy's
   encoder name and kwargs come from the checkpoint (or, when given, must equal it: a mismatch is
   a one-line ``ValueError`` showing both), so the agent is built with the architecture the
   weights fit.
2. ``initialize(model, policy_config)`` right after building (after SB3's orthogonal init): copies
   the encoder weights into every rlkit encoder of the policy (``EncoderExtractor``s of an SB3
   policy; the ``encoder`` and ``critic_encoder`` of sequence PPO's policy), checking name,
   observation space and shapes (``rlkit.nn.check_compatible``); for ``--init-policy`` also the
   actor head (``policy_net``, ``action_net``, ``log_std``: into PPO/A2C/TRPO's policy, or a squashed
   head into SAC's / TD3's actor, see `_load_head`); ``freeze_encoder`` turns the
   encoders' gradients off and keeps them in eval mode (a flag the agent saves, so resuming keeps it).

Works on torch modules and checkpoints only (no import of ``agents``): an SB3 policy is recognised
by its ``mlp_extractor`` / ``action_net``; its encoders are the outermost `Encoder` modules it holds.
"""

from __future__ import annotations

from typing import Any

import torch

from rlkit.nn.checkpoint import _network_config, check_compatible, read_checkpoint
from rlkit.nn.encoders import Encoder

_NOT_NETWORK = ("seed", "sequence")  # checkpoint config entries that are not policy encoder_kwargs


def encoder_checkpoint_of(policy_config: Any) -> dict[str, Any] | None:
    """The encoder checkpoint a policy config starts from: ``init_encoder``'s, or ``init_policy``'s embedded one."""
    if policy_config.init_encoder is not None and policy_config.init_policy is not None:
        raise ValueError("got both `policy.init_encoder` and `policy.init_policy`; the policy checkpoint holds its encoder: give only `policy.init_policy`")
    if policy_config.init_policy is not None:
        from rlkit.pretrain.bc import read_policy_checkpoint

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


def initialize(model: Any, policy_config: Any) -> list[str]:
    """Load the init checkpoint(s) of ``policy_config`` into ``model.policy``; returns what was loaded (for the log)."""
    data = encoder_checkpoint_of(policy_config)
    if data is None:
        return []
    policy = model.policy
    encoders = policy_encoders(policy)
    if not encoders:
        raise ValueError(
            f"{type(model).__name__}'s policy has no rlkit encoder to load the checkpoint into; "
            "it needs policy.encoder (set from the checkpoint unless the agent builds its own extractor)"
        )
    done = []
    for encoder, owner in encoders:
        check_compatible(encoder, data)
        encoder.load_state_dict(data["state_dict"])
        if policy_config.freeze_encoder:
            freeze(encoder, owner)
    done.append(f"encoder {data['name']!r} into {len(encoders)} extractor(s){' (frozen)' if policy_config.freeze_encoder else ''}")
    if policy_config.init_policy is not None:
        done.append(_load_head(policy, policy_config.init_policy))
    return done


def _load_head(policy: torch.nn.Module, checkpoint: str) -> str:
    """Copy a ``save_bc`` head into the policy's actor; returns what was loaded (for the log).

    Where each BC tensor goes (see ``rlkit.pretrain.bc``): SB3's ``ActorCriticPolicy`` (ppo, a2c, trpo)
    takes a categorical or Gaussian head as it is; SAC's actor (sac, tqc) takes a squashed head as
    ``latent_pi`` <- ``policy_net``, ``mu`` <- ``action_net`` and its state-dependent ``log_std`` layer
    <- weights 0, bias ``log_std`` (the clone's std, whatever the state); TD3's deterministic actor
    (td3, ddpg) takes a squashed head's mean as ``mu = [policy_net…, action_net, Tanh]`` (no std: TD3
    explores with action noise) and its target actor starts equal. A head of the other kind would act
    differently (tanh vs clipping), so it is refused with what would work."""
    from rlkit.nn.spaces import describe_space, space_from_dict, space_to_dict
    from rlkit.pretrain.bc import head_kind, read_policy_checkpoint

    data = read_policy_checkpoint(checkpoint)
    kind = head_kind(data)
    name = type(policy).__name__
    actor = getattr(policy, "actor", None)
    if hasattr(policy, "mlp_extractor") and hasattr(policy, "action_net"):
        family = "actor_critic"
    elif actor is not None and all(hasattr(actor, a) for a in ("latent_pi", "mu", "log_std")):
        family = "sac"
    elif actor is not None and isinstance(getattr(actor, "mu", None), torch.nn.Sequential):
        family = "td3"
    else:
        raise ValueError(
            f"`policy.init_policy` loads an actor head into SB3's ActorCriticPolicy (ppo, a2c, trpo) or SAC's / TD3's actor "
            f"(sac, tqc, td3, ddpg); got a {name}; use `policy.init_encoder` for the encoder alone"
        )
    saved_space = space_from_dict(data["action_space"])
    if space_to_dict(saved_space) != space_to_dict(policy.action_space):
        raise ValueError(
            f"policy checkpoint {checkpoint!r} acts in {describe_space(saved_space)}; the agent in {describe_space(policy.action_space)}"
        )
    if family == "actor_critic" and kind == "squashed":
        raise ValueError(
            f"policy checkpoint {checkpoint!r} has a tanh-squashed head (for sac, td3, ddpg); {name}'s Gaussian is unsquashed "
            "and would act differently: clone again without `head=squashed` to start ppo, a2c or trpo"
        )
    if family != "actor_critic" and kind != "squashed":
        what = "SAC's actor squashes its Gaussian" if family == "sac" else "TD3's actor squashes its action"
        raise ValueError(
            f"policy checkpoint {checkpoint!r} has an unsquashed {kind} head; {what} with tanh, so it would act differently: "
            "clone with `rlkit pretrain bc` and `head=squashed` (or start ppo, a2c or trpo from this checkpoint)"
        )
    activation = getattr(policy, "activation_fn", None)
    if data["net_arch"] and activation is not None and activation.__name__ != data["activation"]:
        raise ValueError(
            f"policy checkpoint {checkpoint!r} was trained with activation {data['activation']}; the agent uses {activation.__name__}; "
            f"use `policy.activation_fn={data['activation']}`"
        )
    head = data["head"]
    net_arch = list(data["net_arch"])
    policy_net = {k[len("policy_net.") :]: v for k, v in head.items() if k.startswith("policy_net.")}
    action_net = {k[len("action_net.") :]: v for k, v in head.items() if k.startswith("action_net.")}
    if family == "actor_critic":
        other = "vf: [64, 64]"
        targets = [(policy.mlp_extractor.policy_net, policy_net), (policy.action_net, action_net)]
    elif family == "sac":
        if getattr(actor, "use_sde", False):
            raise ValueError(f"{name} uses gSDE (use_sde=True), whose std is not a layer a BC head maps onto; use `algo_kwargs.use_sde=false`")
        other = "qf: [256, 256]"
        log_std = {"weight": torch.zeros_like(actor.log_std.weight), "bias": head["log_std"]}
        targets = [(actor.latent_pi, policy_net), (actor.mu, action_net), (actor.log_std, log_std)]
    else:
        other = "qf: [400, 300]"
        last = 2 * len(net_arch)  # policy_net is [Linear, activation] per layer; mu adds the output Linear, then Tanh
        mu = {**policy_net, **{f"{last}.{k}": v for k, v in action_net.items()}}
        targets = [(actor.mu, mu)]
    for module, state in targets:
        own = module.state_dict()
        if set(state) != set(own) or any(tuple(own[k].shape) != tuple(v.shape) for k, v in state.items()):
            raise ValueError(
                f"policy checkpoint {checkpoint!r} has a head of net_arch {net_arch} that does not fit the agent's actor "
                f"({ {k: tuple(v.shape) for k, v in own.items()} }); use `policy.net_arch={{pi: {net_arch}, {other}}}`"
            )
    for module, state in targets:
        module.load_state_dict(state)
    if family == "td3":
        target = getattr(policy, "actor_target", None)
        if target is not None:
            target.load_state_dict(actor.state_dict())  # TD3 starts its target actor as a copy of the actor
        return "actor head (policy_net, action_net -> actor.mu; actor_target synced)"
    if family == "sac":
        return "actor head (policy_net -> latent_pi, action_net -> mu, log_std -> log_std bias)"
    if "log_std" in head:
        log_std = getattr(policy, "log_std", None)
        if getattr(policy, "use_sde", False):
            # gSDE's log_std is a (latent, action) matrix scaling state features: no single std maps onto it
            raise ValueError(
                f"policy checkpoint {checkpoint!r} has a state-independent Gaussian std; the agent uses gSDE (use_sde=True), "
                "whose std is a matrix over the policy's features; use `algo_kwargs.use_sde=false`"
            )
        if not isinstance(log_std, torch.nn.Parameter) or log_std.shape != head["log_std"].shape:
            raise ValueError(f"policy checkpoint {checkpoint!r} has a Gaussian log_std {tuple(head['log_std'].shape)}; the agent's policy has none that fits")
        with torch.no_grad():
            log_std.copy_(head["log_std"])
    return "actor head (policy_net, action_net, log_std)"
