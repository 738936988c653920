"""Causal Transformer encoder with a sliding context window, a KV cache and episode-boundary masking.

Pre-norm blocks (``x + Attn(LN(x))``, then ``x + FF(LN(x))``, a final LayerNorm), attention by
``torch.nn.functional.scaled_dot_product_attention`` with an explicit boolean mask. A query at
step t attends to the keys at steps t - context_len + 1 .. t that belong to its own episode.

State (see ``rlkit.nn.sequence``): per layer the keys and values of the last
``context_len - 1`` tokens, ``(B, context_len - 1, d_model)`` each (heads folded into
``d_model``), then a ``(B, context_len - 1)`` validity mask (1 where the cached token is of the
current episode) and a ``(B, 1)`` position counter (steps since the episode started). A rollout
call (T = 1) projects only the new token and attends over the cache: O(context_len), not a pass
over the context. A chunk of T tokens attends over ``[cache, chunk]`` with one masked SDPA per
layer, so stepping one token at a time and calling on the whole chunk agree.

Positions are steps since the episode's start (0 at its first observation), encoded at the
input: fixed sinusoids (Vaswani et al.), or a learned table of ``max_len`` rows where positions
past ``max_len - 1`` share the last row.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from rlkit.nn.mlp import make_activation
from rlkit.nn.sequence import SequenceModule, segment_start


_FREQUENCIES: dict[tuple[int, torch.device], torch.Tensor] = {}


def _compute_frequencies(d_model: int, device: torch.device) -> torch.Tensor:
    half = torch.arange(0, d_model, 2, device=device, dtype=torch.float32)  # (ceil(d/2),)
    return torch.exp(-math.log(10000.0) * half / d_model)  # (ceil(d/2),)


def _frequencies(d_model: int, device: torch.device) -> torch.Tensor:
    # Computed once per width and device: the encoding runs twice per env step in rollouts.
    if torch.compiler.is_compiling():  # part of the compiled graph; reading the cache would add a guard on it
        return _compute_frequencies(d_model, device)
    key = (d_model, device)
    if key not in _FREQUENCIES:
        with torch.inference_mode(False), torch.no_grad():  # a plain tensor, even if first made in a rollout
            _FREQUENCIES[key] = _compute_frequencies(d_model, device)
    return _FREQUENCIES[key]


def sinusoidal_encoding(positions: torch.Tensor, d_model: int) -> torch.Tensor:
    """``positions (...)`` float -> ``(..., d_model)``: sin on even dims, cos on odd, as Vaswani et al."""
    angles = positions.unsqueeze(-1).float() * _frequencies(d_model, positions.device)  # (..., ceil(d/2))
    if d_model % 2 == 0:  # interleave sin and cos: the same values as the strided writes below, in fewer ops
        return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(-2)  # (..., d_model)
    enc = torch.zeros(*positions.shape, d_model, device=positions.device)
    enc[..., 0::2] = torch.sin(angles)
    enc[..., 1::2] = torch.cos(angles[..., : d_model // 2])
    return enc


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention over ``[cache, chunk]``; same parameter layout as ``nn.MultiheadAttention``.

    ``in_proj_weight (3 d, d)``/``in_proj_bias`` project q, k, v; ``out_proj`` the heads' concat. Holds the
    parameters only: the computation is `run_transformers`, which runs one or several encoders' blocks
    (sequence PPO's actor and critic) with their weights stacked.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"got d_model={d_model}, num_heads={num_heads}; d_model must be divisible by num_heads")
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        nn.init.xavier_uniform_(self.in_proj_weight)  # as nn.MultiheadAttention
        nn.init.zeros_(self.out_proj.bias)
        self.num_heads = num_heads
        self.dropout = dropout


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + Attn(LN(x))`` then ``x + FF(LN(x))``; its parameters, computed by `run_transformers`."""

    def __init__(self, d_model: int, num_heads: int, dim_feedforward: int, dropout: float, activation: str) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(
            nn.Linear(d_model, dim_feedforward),
            make_activation(activation),
            nn.Dropout(dropout),
            nn.Linear(dim_feedforward, d_model),
        )
        self.drop = nn.Dropout(dropout)


class TransformerEncoder(SequenceModule):
    """Causal sliding-window Transformer; see the module docstring.

    Input ``x (B, T, input_dim)``, ``episode_starts (B, T)``, ``state``; output
    ``(B, T, d_model)`` and the new state.

    :param input_dim: per-step input size (projected to ``d_model``).
    :param d_model: token width = ``output_dim``.
    :param num_heads: attention heads (divide ``d_model``).
    :param num_layers: blocks.
    :param context_len: tokens a query sees, itself included (>= 1).
    :param dim_feedforward: hidden width of the blocks' MLP (default ``4 * d_model``).
    :param dropout: on attention weights, residual branches and the MLP.
    :param positional: ``"sinusoidal"`` or ``"learned"``.
    :param max_len: rows of the learned position table.
    :param activation: the MLP's activation name.
    """

    def __init__(
        self,
        input_dim: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        context_len: int = 32,
        dim_feedforward: int | None = None,
        dropout: float = 0.0,
        positional: str = "sinusoidal",
        max_len: int = 1024,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        if context_len < 1:
            raise ValueError(f"got context_len={context_len}; expected >= 1")
        if positional not in ("sinusoidal", "learned"):
            raise ValueError(f"got positional={positional!r}; expected 'sinusoidal' or 'learned'")
        self.input_proj = nn.Linear(input_dim, d_model)
        self.positional = positional
        if positional == "learned":
            self.position_table = nn.Embedding(max_len, d_model)
            nn.init.normal_(self.position_table.weight, std=0.02)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, num_heads, dim_feedforward or 4 * d_model, dropout, activation)
            for _ in range(num_layers)
        )
        self.final_norm = nn.LayerNorm(d_model)
        self.input_dim = int(input_dim)
        self.output_dim = int(d_model)
        self.context_len = int(context_len)
        self.num_layers = int(num_layers)
        self.max_len = int(max_len)
        # What two encoders must share to run as one batched pass (`stackable_transformers`).
        self.config = (self.input_dim, self.output_dim, num_heads, self.num_layers, self.context_len,
                       dim_feedforward or 4 * d_model, float(dropout), positional, self.max_len, activation)  # fmt: skip

    @property
    def state_shapes(self) -> tuple[tuple[int, ...], ...]:
        cached = (self.context_len - 1, self.output_dim)
        return (cached,) * (2 * self.num_layers) + ((self.context_len - 1,), (1,))

    def _encode_positions(self, positions: torch.Tensor) -> torch.Tensor:
        if self.positional == "sinusoidal":
            return sinusoidal_encoding(positions, self.output_dim)
        return self.position_table(positions.long().clamp(max=self.max_len - 1))

    def forward(
        self, x: torch.Tensor, episode_starts: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        starts, state = self.check_inputs(x, episode_starts, state)
        features, new_states = run_transformers((self,), x, starts, (state,))
        return features[0], new_states[0]

    def _chunk_masks(self, starts, cache_valid, position):
        """The attention mask ``(B, 1, T, C + T)``, positions ``(B, T)`` and the next state's validity ``(B, C)``."""
        batch, steps = starts.shape
        cached, device = self.context_len - 1, starts.device
        # Episode ids within the chunk: 0 until the first start; cached tokens belong to episode 0.
        episode = starts.long().cumsum(dim=1)  # (B, T)
        seg = segment_start(starts)  # (B, T)
        t = torch.arange(steps, device=device)
        positions = torch.where(seg >= 0, t - seg, position + t)  # (B, T) steps since episode start

        # Mask (B, 1, T, C + T): key s sits at chunk step s - C; allowed within the window and episode.
        key_step = torch.arange(-cached, steps, device=device)  # (S,)
        lag = t.view(-1, 1) - key_step.view(1, -1)  # (T, S)
        in_window = (lag >= 0) & (lag < self.context_len)  # (T, S)
        key_episode = torch.cat([torch.zeros(batch, cached, dtype=torch.long, device=device), episode], dim=1)
        key_valid = torch.cat([cache_valid, torch.ones_like(starts)], dim=1)  # (B, S)
        same = episode.unsqueeze(2) == key_episode.unsqueeze(1)  # (B, T, S)
        mask = (same & key_valid.unsqueeze(1) & in_window).unsqueeze(1)  # (B, 1, T, S)
        # Cached tokens stay valid only if they belong to the chunk's last episode.
        still_valid = key_valid & (key_episode == episode[:, -1:])  # (B, S)
        return mask, positions, still_valid[:, steps:].float()

    @staticmethod
    def _step_masks(starts, cache_valid, position):
        """`_chunk_masks` for T = 1 (every rollout step) in a third of the ops: the new token sees the cached
        ones unless it starts an episode, and what it sees is exactly what stays valid."""
        visible = torch.cat([cache_valid & ~starts, torch.ones_like(starts)], dim=1)  # (B, C + 1)
        positions = torch.where(starts, torch.zeros_like(position), position)  # (B, 1)
        return visible.view(starts.shape[0], 1, 1, -1), positions, visible[:, 1:].float()


def stackable_transformers(cores: tuple[nn.Module, ...]) -> bool:
    """Whether `run_transformers` can run these modules as one batched pass: TransformerEncoders of one
    configuration in the same train/eval mode."""
    first = cores[0]
    return all(
        isinstance(c, TransformerEncoder) and c.config == first.config and c.training == first.training for c in cores
    )


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x (K, N, in)`` (or ``(N, in)``, shared by all K) through K linear maps, ``weight (K, out, in)`` and
    ``bias (K, 1, out)`` stacked -> ``(K, N, out)``."""
    if weight.shape[0] == 1:
        y = F.linear(x, weight[0], bias[0, 0])
        return y if y.dim() == 3 else y.unsqueeze(0)
    if x.dim() == 2:
        x = x.expand(weight.shape[0], *x.shape)
    return torch.baddbmm(bias, x, weight.transpose(1, 2))


def _layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """``x (K, N, d)``, the k-th slice through the k-th LayerNorm (``weight``, ``bias`` stacked ``(K, 1, d)``)."""
    if weight.shape[0] == 1:
        return F.layer_norm(x, weight.shape[-1:], weight[0, 0], bias[0, 0], eps)
    return torch.addcmul(bias, F.layer_norm(x, weight.shape[-1:], eps=eps), weight)


def _parameter_groups(core: TransformerEncoder) -> list[torch.Tensor]:
    """One core's parameters in the order `_stacked_parameters` stacks them (weight, bias pairs)."""
    out = [core.input_proj.weight, core.input_proj.bias]
    for block in core.blocks:
        out += [block.norm1.weight, block.norm1.bias, block.attn.in_proj_weight, block.attn.in_proj_bias,
                block.attn.out_proj.weight, block.attn.out_proj.bias, block.norm2.weight, block.norm2.bias,
                block.ff[0].weight, block.ff[0].bias, block.ff[3].weight, block.ff[3].bias]  # fmt: skip
    return out + [core.final_norm.weight, core.final_norm.bias]


def _stack(groups: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    # Weights (K, out, in); biases and LayerNorm parameters (K, 1, n), the shape they broadcast in. One
    # core: views, no copies.
    stacked = [ts[0].unsqueeze(0) if len(ts) == 1 else torch.stack(ts) for ts in zip(*groups)]
    return [t if t.dim() == 3 else t.unsqueeze(1) for t in stacked]


# Stacks kept while the weights are known not to change (`fixed_weights`), by the cores' ids.
_FIXED: dict[tuple[int, ...], list[torch.Tensor]] | None = None


@contextlib.contextmanager
def fixed_weights() -> Iterator[None]:
    """Within this context no Transformer's weights change: `run_transformers` stacks each set of cores'
    weights once and reuses the stacks while gradients are off. For rollouts, which call the encoders
    once per env step (sequence PPO's ``collect_rollouts``: a sixth of a policy step went to restacking).
    A change to the weights inside (an optimizer step, a load) would go unseen."""
    global _FIXED
    previous, _FIXED = _FIXED, {}
    try:
        yield
    finally:
        _FIXED = previous


def _stacked_parameters(cores: tuple[TransformerEncoder, ...]) -> list[torch.Tensor]:
    """The cores' parameters stacked on a leading core axis (see `_parameter_groups` for the order)."""
    # With gradients: stacks in the graph, reaching each core. Compiled: the stacking is fused into the
    # graph, and a cache read and filled in the traced code would only make torch.compile recompile.
    if _FIXED is None or torch.is_grad_enabled() or torch.compiler.is_compiling():
        return _stack([_parameter_groups(c) for c in cores])
    key = tuple(id(c) for c in cores)  # the cores outlive the context, so their ids stay theirs
    stacked = _FIXED.get(key)
    if stacked is None:
        stacked = _FIXED[key] = _stack([_parameter_groups(c) for c in cores])
    return stacked


def run_transformers(
    cores: tuple[TransformerEncoder, ...],
    x: torch.Tensor,
    starts: torch.Tensor,
    states: tuple[tuple[torch.Tensor, ...], ...],
) -> tuple[tuple[torch.Tensor, ...], tuple[tuple[torch.Tensor, ...], ...]]:
    """`stackable_transformers` encoders, each with its own state, over the same checked input ``x (B, T, D)``
    and bool ``starts (B, T)``: per core, features ``(B, T, d)`` and the new state.

    Sequence PPO's actor and critic encoders read the same steps: one pass with their weights stacked
    (batched matmuls, one attention call) does the work of two in half the ops, and the masks and
    positions, which depend only on the episode starts, are built once. They are read from the first
    core's state (validity and position counter), which every core shares when fed the same steps.
    """
    first = cores[0]
    batch, steps = starts.shape
    n_cores, d = len(cores), first.output_dim
    cache_valid, position = states[0][-2] > 0.5, states[0][-1]  # (B, C), (B, 1)
    if steps == 1:
        mask, positions, new_valid = first._step_masks(starts, cache_valid, position)
    else:
        mask, positions, new_valid = first._chunk_masks(starts, cache_valid, position)

    tokens = batch * steps
    stacked = _stacked_parameters(cores)
    if first.positional == "sinusoidal":
        pos = sinusoidal_encoding(positions, d).view(1, tokens, d)  # the same for every core
    else:
        pos = torch.stack([c._encode_positions(positions) for c in cores]).view(n_cores, tokens, d)
    h = _linear(x.reshape(tokens, -1), stacked[0], stacked[1]) + pos
    training = first.training
    # As an additive 0 / -inf mask: what SDPA turns a bool mask into on every call, here once per pass (its
    # fused CPU kernel, forward and backward, is also ~10% faster given the float mask directly).
    mask = torch.where(mask, 0.0, float("-inf")).to(h.dtype)
    core_mask = mask if n_cores == 1 else mask.expand(n_cores, *mask.shape).reshape(n_cores * batch, *mask.shape[1:])
    heads = first.blocks[0].attn.num_heads if first.blocks else 1
    p_drop = first.blocks[0].drop.p if first.blocks else 0.0  # blocks' residual and MLP dropout (one rate)

    def drop(y: torch.Tensor) -> torch.Tensor:
        # Identity unless training with dropout on: skips three module calls per block in rollouts.
        return F.dropout(y, p_drop, training=True) if training and p_drop > 0 else y

    new_caches: list[list[torch.Tensor]] = [[] for _ in cores]
    for i, block in enumerate(first.blocks):  # the first core's modules for the hyperparameters shared by all
        (norm1_w, norm1_b, qkv_w, qkv_b, out_w, out_b, norm2_w, norm2_b, ff1_w, ff1_b, ff2_w, ff2_b) = stacked[2 + 12 * i : 14 + 12 * i]
        qkv = _linear(_layer_norm(h, norm1_w, norm1_b, block.norm1.eps), qkv_w, qkv_b)
        q, k, v = qkv.view(n_cores, batch, steps, 3 * d).chunk(3, dim=-1)  # (K, B, T, d) each
        if n_cores == 1:
            cache_k, cache_v = states[0][2 * i].unsqueeze(0), states[0][2 * i + 1].unsqueeze(0)  # (1, B, C, d)
        else:
            cache_k = torch.stack([s[2 * i] for s in states])  # (K, B, C, d)
            cache_v = torch.stack([s[2 * i + 1] for s in states])
        keys = torch.cat([cache_k, k], dim=2)  # (K, B, S, d)
        values = torch.cat([cache_v, v], dim=2)
        dh = d // heads
        # Cores folded into the batch: torch's fused CPU kernel takes 4-d inputs only (5-d falls back to
        # the unfused math path).
        out = F.scaled_dot_product_attention(
            q.reshape(n_cores * batch, steps, heads, dh).transpose(1, 2),  # (K B, h, T, dh)
            keys.view(n_cores * batch, -1, heads, dh).transpose(1, 2),  # (K B, h, S, dh)
            values.view(n_cores * batch, -1, heads, dh).transpose(1, 2),
            attn_mask=core_mask,  # (K B, 1, T, S)
            dropout_p=block.attn.dropout if training else 0.0,
        )  # (K B, h, T, dh)
        out = out.transpose(1, 2).reshape(n_cores, tokens, d)
        h = h + drop(_linear(out, out_w, out_b))
        f = _linear(_layer_norm(h, norm2_w, norm2_b, block.norm2.eps), ff1_w, ff1_b)
        f = drop(block.ff[1].forward(f))  # activation (its forward: no hooks, a sizable share of a rollout step)
        h = h + drop(_linear(f, ff2_w, ff2_b))  # (K, B * T, d)
        for j, cache in enumerate(new_caches):
            cache += [keys[j, :, steps:], values[j, :, steps:]]  # (B, C, d): the last C tokens
    features = _layer_norm(h, stacked[-2], stacked[-1], first.final_norm.eps).view(n_cores, batch, steps, d)
    new_position = positions[:, -1:].float() + 1  # (B, 1)
    return tuple(features.unbind(0)), tuple((*cache, new_valid, new_position) for cache in new_caches)
