"""Pretrained starts inside SB3 policies: loading encoder and actor-head checkpoints, the critic's parameters for a
warm-up, and the actor's deterministic action for the behaviour-cloning term.

Everything here knows how SB3 (and rlkit's sequence agents) lay out a policy: SB3's ``ActorCriticPolicy``
(ppo, a2c, trpo) is recognised by its ``mlp_extractor`` / ``action_net`` / ``value_net``, sequence PPO's policy by
its ``vf_net`` / ``value_net``, SAC's / TD3's policy by its ``actor`` / ``critic``. The checkpoints and the checks
of a policy config that need no policy are rlkit's (``rlkit.pretrain.init``, ``rlkit.pretrain.bc``).
"""

from __future__ import annotations

from typing import Any

import torch

from rlkit.nn.checkpoint import check_compatible
from rlkit.nn.spaces import describe_space, space_from_dict, space_to_dict
from rlkit.pretrain.bc import head_kind, read_policy_checkpoint
from rlkit.pretrain.init import encoder_checkpoint_of, freeze, policy_encoders

# The critics' default net_arch in SB3, named in the hint when a BC head does not fit the actor.
_OTHER_NET_ARCH = {"actor_critic": "vf: [64, 64]", "sac": "qf: [256, 256]", "td3": "qf: [400, 300]"}


def initialize(model: Any, policy_config: Any) -> list[str]:
    """Load the init checkpoint(s) of ``policy_config`` into ``model.policy``; returns what was loaded (for the log).

    The encoder weights go into every rlkit encoder of the policy (``rlkit.pretrain.init.policy_encoders``),
    checked by ``rlkit.nn.check_compatible``; with ``policy.init_policy`` the actor head too (`load_head`);
    ``policy.freeze_encoder`` freezes the encoders (``rlkit.pretrain.init.freeze``)."""
    data = encoder_checkpoint_of(policy_config)
    if data is None:
        return []
    policy = model.policy
    encoders = policy_encoders(policy)
    if not encoders:
        raise ValueError(
            f"{type(model).__name__}'s policy has no rlkit encoder to load the checkpoint into; "
            "it needs `policy.encoder` (set from the checkpoint unless the agent builds its own extractor)"
        )
    done = []
    for encoder, owner in encoders:
        check_compatible(encoder, data)
        encoder.load_state_dict(data["state_dict"])
        if policy_config.freeze_encoder:
            freeze(encoder, owner)
    done.append(f"encoder {data['name']!r} into {len(encoders)} extractor(s){' (frozen)' if policy_config.freeze_encoder else ''}")
    if policy_config.init_policy is not None:
        done.append(load_head(policy, policy_config.init_policy))
    return done


def load_head(policy: torch.nn.Module, checkpoint: str) -> str:
    """Copy a ``save_bc`` head into the policy's actor; returns what was loaded (for the log).

    Where each BC tensor goes (see ``rlkit.pretrain.bc``): SB3's ``ActorCriticPolicy`` (ppo, a2c, trpo)
    takes a categorical or Gaussian head as it is; SAC's actor (sac, tqc) takes a squashed head as
    ``latent_pi`` <- ``policy_net``, ``mu`` <- ``action_net`` and its state-dependent ``log_std`` layer
    <- weights 0, bias ``log_std`` (the clone's std, whatever the state); TD3's deterministic actor
    (td3, ddpg) takes a squashed head's mean as ``mu = [policy_net…, action_net, Tanh]`` (no std: TD3
    explores with action noise) and its target actor starts equal. A head of the other kind would act
    differently (tanh vs clipping), so it is refused with what would work."""
    data = read_policy_checkpoint(checkpoint)
    family = _family(policy)
    _check_head(policy, family, data, checkpoint)
    targets = _targets(policy, family, data["head"], list(data["net_arch"]))
    _check_fit(targets, list(data["net_arch"]), _OTHER_NET_ARCH[family], checkpoint)
    for module, state in targets:
        module.load_state_dict(state)
    if family == "td3":
        target = getattr(policy, "actor_target", None)
        if target is not None:
            target.load_state_dict(policy.actor.state_dict())  # TD3 starts its target actor as a copy of the actor
        return "actor head (policy_net, action_net -> actor.mu; actor_target synced)"
    if family == "sac":
        return "actor head (policy_net -> latent_pi, action_net -> mu, log_std -> log_std bias)"
    if "log_std" in data["head"]:
        _load_log_std(policy, data["head"]["log_std"], checkpoint)
    return "actor head (policy_net, action_net, log_std)"


def _family(policy: torch.nn.Module) -> str:
    """Which actor the policy has: ``actor_critic`` (ppo, a2c, trpo), ``sac`` (sac, tqc) or ``td3`` (td3, ddpg)."""
    actor = getattr(policy, "actor", None)
    if hasattr(policy, "mlp_extractor") and hasattr(policy, "action_net"):
        return "actor_critic"
    if actor is not None and all(hasattr(actor, a) for a in ("latent_pi", "mu", "log_std")):
        return "sac"
    if actor is not None and isinstance(getattr(actor, "mu", None), torch.nn.Sequential):
        return "td3"
    raise ValueError(
        f"`policy.init_policy` loads an actor head into SB3's ActorCriticPolicy (ppo, a2c, trpo) or SAC's / TD3's actor "
        f"(sac, tqc, td3, ddpg); got a {type(policy).__name__}; use `policy.init_encoder` for the encoder alone"
    )


def _check_head(policy: torch.nn.Module, family: str, data: dict[str, Any], checkpoint: str) -> None:
    """The checkpoint's action space, head kind and activation fit the policy: one line saying what would otherwise."""
    name, kind = type(policy).__name__, head_kind(data)
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
    if family == "sac" and getattr(policy.actor, "use_sde", False):
        raise ValueError(f"{name} uses gSDE (use_sde=True), whose std is not a layer a BC head maps onto; use `algo_kwargs.use_sde=false`")


def _targets(policy: torch.nn.Module, family: str, head: dict[str, torch.Tensor], net_arch: list[int]) -> list[tuple[torch.nn.Module, dict]]:
    """(module, state dict) pairs: which of the policy's modules takes which of the head's tensors."""
    policy_net = {k[len("policy_net.") :]: v for k, v in head.items() if k.startswith("policy_net.")}
    action_net = {k[len("action_net.") :]: v for k, v in head.items() if k.startswith("action_net.")}
    if family == "actor_critic":
        return [(policy.mlp_extractor.policy_net, policy_net), (policy.action_net, action_net)]
    actor = policy.actor
    if family == "sac":
        log_std = {"weight": torch.zeros_like(actor.log_std.weight), "bias": head["log_std"]}
        return [(actor.latent_pi, policy_net), (actor.mu, action_net), (actor.log_std, log_std)]
    last = 2 * len(net_arch)  # policy_net is [Linear, activation] per layer; mu adds the output Linear, then Tanh
    return [(actor.mu, {**policy_net, **{f"{last}.{k}": v for k, v in action_net.items()}})]


def _check_fit(targets: list[tuple[torch.nn.Module, dict]], net_arch: list[int], other: str, checkpoint: str) -> None:
    """Every target module has exactly the head's tensors, shape for shape."""
    for module, state in targets:
        own = module.state_dict()
        if set(state) != set(own) or any(tuple(own[k].shape) != tuple(v.shape) for k, v in state.items()):
            raise ValueError(
                f"policy checkpoint {checkpoint!r} has a head of net_arch {net_arch} that does not fit the agent's actor "
                f"({ {k: tuple(v.shape) for k, v in own.items()} }); use `policy.net_arch={{pi: {net_arch}, {other}}}`"
            )


def _load_log_std(policy: torch.nn.Module, log_std: torch.Tensor, checkpoint: str) -> None:
    """A Gaussian head's state-independent ``log_std`` into an ``ActorCriticPolicy``'s."""
    own = getattr(policy, "log_std", None)
    if getattr(policy, "use_sde", False):
        # gSDE's log_std is a (latent, action) matrix scaling state features: no single std maps onto it
        raise ValueError(
            f"policy checkpoint {checkpoint!r} has a state-independent Gaussian std; the agent uses gSDE (use_sde=True), "
            "whose std is a matrix over the policy's features; use `algo_kwargs.use_sde=false`"
        )
    if not isinstance(own, torch.nn.Parameter) or own.shape != log_std.shape:
        raise ValueError(f"policy checkpoint {checkpoint!r} has a Gaussian log_std {tuple(log_std.shape)}; the agent's policy has none that fits")
    with torch.no_grad():
        own.copy_(log_std)


def critic_parameters(policy: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters only the value function uses: its head, and its own encoder where it has one.

    SB3's ``ActorCriticPolicy`` (ppo, a2c): ``mlp_extractor.value_net``, ``value_net`` and, with
    ``share_features_extractor=False``, ``vf_features_extractor``; sequence PPO's policy: ``vf_net``,
    ``value_net`` and ``critic_encoder``; SAC's / TD3's policy (sac, tqc, td3, ddpg): ``critic`` and ``critic_target``
    (the target moves by Polyak averaging only), without the encoder a ``share_features_extractor=True`` critic
    reads from the actor (SB3's critic optimizer leaves it out too). Any other policy (dqn, …) is a
    ``ValueError``: it has no critic beside an actor."""
    excluded: set[int] = set()  # parameters the critic reads but does not own
    if hasattr(policy, "mlp_extractor") and hasattr(policy, "value_net"):
        modules = [policy.mlp_extractor.value_net, policy.value_net]
        if not getattr(policy, "share_features_extractor", True):
            modules.append(policy.vf_features_extractor)
    elif hasattr(policy, "vf_net") and hasattr(policy, "value_net"):
        modules = [policy.vf_net, policy.value_net]
        if getattr(policy, "critic_encoder", None) is not None:
            modules.append(policy.critic_encoder)
    elif hasattr(policy, "actor") and hasattr(policy, "critic"):
        modules = [policy.critic] + ([policy.critic_target] if getattr(policy, "critic_target", None) is not None else [])
        if getattr(policy, "share_features_extractor", False):
            excluded = {id(p) for p in policy.actor.parameters()}
    else:
        raise ValueError(
            f"`policy.critic_warmup_steps` trains the critic of an actor-critic policy (ppo, a2c, ppo-seq, sac, tqc, td3, ddpg); "
            f"got a {type(policy).__name__}, which has none: set it to 0"
        )
    seen: dict[int, torch.nn.Parameter] = {}
    for module in modules:
        for param in module.parameters():
            if id(param) not in excluded:
                seen.setdefault(id(param), param)
    return list(seen.values())


def deterministic_action(actor: torch.nn.Module, observations: torch.Tensor) -> torch.Tensor:
    """The actor's action without noise, in scaled units: SAC/TQC's squashed mean, TD3/DDPG's ``mu``."""
    if hasattr(actor, "action_dist"):  # SAC's / TQC's Actor: tanh of the Gaussian's mean, no draw
        return actor(observations, deterministic=True)
    return actor(observations)
