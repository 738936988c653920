"""Behaviour cloning: fit an encoder + actor head to a dataset's actions; the head maps onto SB3's policy.

``BCPolicy`` is laid out exactly as the actor half of SB3's ``ActorCriticPolicy`` (PPO, A2C) with an
``rlkit.nn.sb3.EncoderExtractor``::

    encoder      -> policy.features_extractor.encoder   (any feed-forward rlkit encoder)
    policy_net   -> policy.mlp_extractor.policy_net      (Linear, activation, … per net_arch["pi"])
    action_net   -> policy.action_net                    (logits, or the Gaussian mean)
    log_std      -> policy.log_std                       (Box actions: state-independent, as SB3's)

so a PPO agent with ``policy.init_policy`` set to it copies every tensor one to one and the PPO policy
acts as the cloned one. The loss is the negative log-likelihood of the dataset's actions under
the head's distribution: cross-entropy for ``Discrete``, a diagonal Gaussian for ``Box``. Whole
episodes are held out; training stops early when the held-out loss stops improving and keeps
the best epoch's weights.

``head="squashed"`` (``Box`` actions) makes the Gaussian SAC's
instead: its sample goes through tanh and is rescaled from [-1, 1] to the Box, as SB3's
``SquashedDiagGaussianDistribution`` and ``unscale_action`` do, and its ``log_std`` is clamped to SAC's
range. That head is what SAC's and TD3's actors compute (``latent_pi``/``mu``/``log_std``, and
``mu = [policy_net…, action_net, Tanh]``), so ``policy.init_policy`` starts sac, td3 and ddpg acting as the
clone; PPO's Gaussian is unsquashed (its actions are clipped), so each head starts only its own kind.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.distributions import SquashedDiagGaussianDistribution
from stable_baselines3.sac.policies import LOG_STD_MAX, LOG_STD_MIN
from torch import nn

from rlkit.atomic_io import atomic_open
from rlkit.nn import load_encoder, make_encoder, read_checkpoint, save_encoder
from rlkit.nn.checkpoint import load_payload
from rlkit.nn.encoders import Encoder
from rlkit.nn.spaces import describe_space, space_from_dict, space_to_dict
from rlkit.pretrain.common import check_positive, minibatches, run_epochs
from rlkit.pretrain.dataset import Dataset

POLICY_FORMAT = "rlkit.pretrain.policy/1"
DEFAULT_NET_ARCH = (64, 64)  # SB3's default actor layers for PPO/A2C
DEFAULT_ACTIVATION = "Tanh"  # SB3's default activation_fn for PPO/A2C
HEADS = ("gaussian", "squashed")  # Box heads: PPO/A2C/TRPO's Gaussian, SAC/TD3's tanh-squashed one


def head_kind(data: Mapping[str, Any]) -> str:
    """``categorical``, ``gaussian`` or ``squashed``: the head a ``save_bc`` checkpoint holds."""
    if "head_kind" in data:
        return str(data["head_kind"])
    # Checkpoints written before squashed heads existed: the action space says which.
    return "categorical" if isinstance(space_from_dict(data["action_space"]), spaces.Discrete) else "gaussian"


def _activation(name: str) -> type[nn.Module]:
    cls = getattr(nn, name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"got activation {name!r}; expected a torch.nn module name such as Tanh or ReLU (SB3's activation_fn)")
    return cls


class BCPolicy(nn.Module):
    """Encoder + SB3-shaped actor head for a ``Discrete`` or flat ``Box`` action space."""

    def __init__(
        self,
        encoder: Encoder,
        action_space: gym.Space,
        net_arch: Sequence[int] = DEFAULT_NET_ARCH,
        activation: str = DEFAULT_ACTIVATION,
        log_std_init: float = 0.0,
        head: str = "gaussian",
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"got head={head!r}; expected one of {', '.join(HEADS)}")
        if head == "squashed" and not (
            isinstance(action_space, spaces.Box) and np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))
        ):
            raise ValueError(
                f"got a squashed head for {describe_space(action_space)}; tanh squashing needs a Box with finite bounds "
                "(use the default gaussian head)"
            )
        self.head = head
        if encoder.is_sequence:
            raise ValueError(f"got sequence encoder {encoder.name!r}; behaviour cloning uses a feed-forward encoder (mlp, cnn, vae, …)")
        self.encoder = encoder
        self.action_space = action_space
        self.net_arch = [int(n) for n in net_arch]
        self.activation = activation
        layers: list[nn.Module] = []
        width = encoder.output_dim
        for size in self.net_arch:  # the same module order as SB3's MlpExtractor.policy_net
            layers += [nn.Linear(width, size), _activation(activation)()]
            width = size
        self.policy_net = nn.Sequential(*layers)
        self.discrete = isinstance(action_space, spaces.Discrete)
        if self.discrete:
            self.action_net = nn.Linear(width, int(action_space.n))
        elif isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
            self.action_net = nn.Linear(width, int(action_space.shape[0]))
            self.log_std = nn.Parameter(torch.full((int(action_space.shape[0]),), float(log_std_init)))
        else:
            raise ValueError(
                f"got action space {describe_space(action_space)}; behaviour cloning supports Discrete and flat Box actions"
            )

    def forward(self, observations: Any) -> torch.Tensor:
        """Raw observations ``(B, *obs_shape)`` -> logits or Gaussian means ``(B, n)``."""
        return self.action_net(self.policy_net(self.encoder(observations)))

    def log_prob(self, observations: Any, actions: torch.Tensor) -> torch.Tensor:
        """``(B,)`` log-likelihood of ``actions`` (dataset values: Discrete indices or Box vectors, in env units)."""
        out = self(observations)  # (B, n)
        if self.discrete:
            index = actions.long().reshape(-1) - int(self.action_space.start)  # (B,)
            return torch.distributions.Categorical(logits=out).log_prob(index)
        if self.head == "squashed":
            return self._squashed_log_prob(out, actions.float())
        std = self.log_std.exp().expand_as(out)  # (B, n)
        return torch.distributions.Normal(out, std).log_prob(actions.float()).sum(dim=-1)

    def fit_targets(self, actions: torch.Tensor) -> torch.Tensor:
        """The actions the loss fits: a squashed head's are pulled inside the Box by 0.1% of its half-width.

        A teacher that clips (most do) puts many actions exactly on a bound, whose tanh preimage is ±inf
        (SB3 clamps it to atanh(1 - 1.2e-7) ~ 8.3 while 0.99 maps to 2.6): those points would dominate the
        likelihood and stall the fit. atanh(0.999) ~ 3.8 acts just as saturated (tanh gives back 0.999)."""
        if self.discrete or self.head != "squashed":
            return actions
        low, high = self._bounds(torch.float32, actions.device)
        margin = 5e-4 * (high - low)
        return torch.minimum(torch.maximum(actions.float(), low + margin), high - margin)

    def _bounds(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The Box's ``low`` and ``high`` as tensors."""
        return tuple(torch.as_tensor(b, dtype=dtype, device=device) for b in (self.action_space.low, self.action_space.high))

    def _squashed_log_prob(self, mean: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        # SAC's own distribution, so that the clone is fitted to exactly what SAC's actor computes.
        low, high = self._bounds(mean.dtype, mean.device)
        scaled = 2.0 * ((actions - low) / (high - low)) - 1.0  # SB3's scale_action: the Box onto [-1, 1]
        log_std = self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).expand_as(mean)  # (B, n)
        dist = SquashedDiagGaussianDistribution(mean.shape[-1]).proba_distribution(mean, log_std)
        # A density over env units (as the gaussian head's): the rescaling's log-Jacobian, log(2 / (high - low)).
        return dist.log_prob(scaled) + torch.log(2.0 / (high - low)).sum()

    @torch.no_grad()
    def predict(self, observations: Any) -> np.ndarray:
        """Deterministic actions as SB3's ``predict(deterministic=True)`` returns them (argmax / clipped mean)."""
        out = self(observations)
        if self.discrete:
            return (out.argmax(dim=-1) + int(self.action_space.start)).cpu().numpy()
        if self.head == "squashed":  # SAC's/TD3's deterministic action: tanh of the mean, then unscale_action
            low, high = self.action_space.low, self.action_space.high
            return low + (0.5 * (torch.tanh(out).cpu().numpy() + 1.0) * (high - low))
        return np.clip(out.cpu().numpy(), self.action_space.low, self.action_space.high)

    def head_state_dict(self) -> dict[str, torch.Tensor]:
        state = {f"policy_net.{k}": v for k, v in self.policy_net.state_dict().items()}
        state.update({f"action_net.{k}": v for k, v in self.action_net.state_dict().items()})
        if not self.discrete:
            state["log_std"] = self.log_std.detach()
        return {k: v.detach().cpu().clone() for k, v in state.items()}


@dataclass
class BCResult:
    policy: BCPolicy
    history: list[dict[str, float]] = field(default_factory=list)
    """Per epoch: loss (train NLL), val_loss, and val_accuracy (Discrete) or val_mse (Box)."""
    best_epoch: int = -1


def train_bc(
    dataset: Dataset,
    encoder: str = "mlp",
    encoder_kwargs: dict[str, Any] | None = None,
    net_arch: Sequence[int] = DEFAULT_NET_ARCH,
    activation: str = DEFAULT_ACTIVATION,
    epochs: int = 50,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    holdout: float = 0.1,
    patience: int = 5,
    seed: int = 0,
    run_dir: str | Path | None = None,
    device: str = "cpu",
    head: str = "gaussian",
) -> BCResult:
    """Clone the policy that produced ``dataset``; returns the best (lowest held-out loss) policy.

    :param head: ``Box`` actions: ``gaussian`` (starts ppo, a2c, trpo) or ``squashed`` (tanh-squashed as SAC's
        actor; starts sac, td3, ddpg); see the module docstring."""
    check_positive(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, patience=patience)
    torch.manual_seed(seed)
    enc = make_encoder(encoder, dataset.observation_space, seed=seed, **(encoder_kwargs or {}))
    policy = BCPolicy(enc, dataset.action_space, net_arch, activation, head=head).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=learning_rate)
    train_idx, val_idx = dataset.split(holdout, seed)
    rng = np.random.default_rng(seed)
    obs, actions = dataset.observations, torch.as_tensor(dataset.actions, device=device)
    result = BCResult(policy)

    def one_epoch(epoch: int) -> dict[str, Any]:
        policy.train()
        total = 0.0
        for batch in minibatches(train_idx, batch_size, rng):
            loss = -policy.log_prob(obs[batch], policy.fit_targets(actions[batch])).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        return {"epoch": epoch, "loss": total / len(train_idx), **evaluate_bc(policy, dataset, val_idx)}

    result.best_epoch = run_epochs(run_dir, policy, epochs, patience, result.history, one_epoch)
    return result


@torch.no_grad()
def evaluate_bc(policy: BCPolicy, dataset: Dataset, indices: np.ndarray, batch_size: int = 1024) -> dict[str, float]:
    """Held-out ``val_loss`` (NLL) and ``val_accuracy`` (Discrete: argmax = data) or ``val_mse`` (Box)."""
    policy.eval()
    nll, score = 0.0, 0.0
    for start in range(0, len(indices), batch_size):
        batch = indices[start : start + batch_size]
        actions = torch.as_tensor(dataset.actions[batch], device=policy.action_net.weight.device)
        nll -= policy.log_prob(dataset.observations[batch], policy.fit_targets(actions)).sum().item()
        predicted = policy.predict(dataset.observations[batch])
        if policy.discrete:
            score += float((predicted == dataset.actions[batch]).sum())
        else:
            score += float(((predicted - dataset.actions[batch]) ** 2).mean(axis=-1).sum())
    n = max(len(indices), 1)
    return {"val_loss": nll / n, ("val_accuracy" if policy.discrete else "val_mse"): score / n}


def _encoder_checkpoint(encoder: Encoder, **metadata: Any) -> dict[str, Any]:
    # save_encoder is the one writer of the encoder format; its file is read back to embed it.
    with tempfile.TemporaryDirectory() as tmp:
        path = save_encoder(encoder, Path(tmp) / "encoder.pt", **metadata)
        return read_checkpoint(path)


def save_bc(result: BCResult, path: str | Path, exploration_std: float | None = None, **metadata: Any) -> Path:
    """Write the policy checkpoint (encoder checkpoint + head) atomically; ``policy.init_policy`` loads it.

    ``exploration_std`` (Box actions): store ``log_std = log(exploration_std)`` instead of the fitted one.
    Cloning a deterministic teacher fits a std near 0, which would leave a PPO policy started from
    it almost no exploration to improve with.
    """
    policy = result.policy
    head = policy.head_state_dict()
    if exploration_std is not None:
        if policy.discrete or not exploration_std > 0:
            raise ValueError(f"got exploration_std={exploration_std}; it applies to Box actions and must be positive")
        head["log_std"] = torch.full_like(head["log_std"], float(np.log(exploration_std)))
    payload = {
        "format": POLICY_FORMAT,
        "encoder": _encoder_checkpoint(policy.encoder, task="bc", **metadata),
        "action_space": space_to_dict(policy.action_space),
        "net_arch": list(policy.net_arch),
        "activation": policy.activation,
        "head_kind": "categorical" if policy.discrete else policy.head,
        "head": head,
        "metadata": dict(metadata, best_epoch=result.best_epoch, exploration_std=exploration_std),
    }
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        torch.save(payload, handle)
    return path


def read_policy_checkpoint(checkpoint: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Load and check a ``save_bc`` checkpoint (a dict read before passes through)."""
    data, source = load_payload(checkpoint, "policy", "`rlkit pretrain bc`")
    if not isinstance(data, dict) or data.get("format") != POLICY_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        hint = " (an encoder checkpoint goes to `policy.init_encoder`)" if found == "rlkit.nn.encoder/1" else ""
        raise ValueError(f"got {source} with format {found!r}; expected {POLICY_FORMAT!r} from `rlkit pretrain bc`{hint}")
    return data


def load_bc(checkpoint: str | Path | Mapping[str, Any]) -> BCPolicy:
    """Rebuild the ``BCPolicy`` a checkpoint holds (eval mode)."""
    data = read_policy_checkpoint(checkpoint)
    kind = head_kind(data)
    policy = BCPolicy(load_encoder(data["encoder"]), space_from_dict(data["action_space"]), data["net_arch"], data["activation"],
                      head="squashed" if kind == "squashed" else "gaussian")  # fmt: skip
    head = data["head"]
    policy.policy_net.load_state_dict({k[11:]: v for k, v in head.items() if k.startswith("policy_net.")})
    policy.action_net.load_state_dict({k[11:]: v for k, v in head.items() if k.startswith("action_net.")})
    if "log_std" in head:
        with torch.no_grad():
            policy.log_std.copy_(head["log_std"])
    return policy.eval()
