"""Planning on GroundhogDay, shared by the oracle and the Bayesian learner: reaction probabilities given
(a distribution over) her preferences, and the best day by backward induction."""

from __future__ import annotations

import numpy as np

from envs.groundhog.world import AFFECTION, DELIGHTED, NEGATIVE, POSITIVE


def bored_levels(level_probs: np.ndarray) -> np.ndarray:
    """Distribution over (negative, neutral, positive, delighted) one level lower, negative staying."""
    bored = np.zeros_like(level_probs)
    bored[..., 0] = level_probs[..., 0] + level_probs[..., 1]
    bored[..., 1:3] = level_probs[..., 2:]
    return bored


def reaction_probabilities(
    taste_probs: np.ndarray, weights: np.ndarray, combos: np.ndarray, noise: float
) -> np.ndarray:
    """P(reaction | meeting her with behaviour b, having done the behaviours in mask m with her today).

    `combos` is ``(K, 2)`` (before, after) pairs with probabilities `weights` ``(K,)``; given pair k
    the tastes are independent with ``taste_probs[k, b]`` over (negative, neutral, positive,
    delighted) ``(K, B, 4)``. A single known task is K = 1 with one-hot taste probabilities.
    Returns ``(2**B, B, 4)`` over the reactions negative..delighted, preference noise included.
    """
    n_pairs, n_behaviours, _ = taste_probs.shape
    masks = np.arange(1 << n_behaviours)
    done = ((masks[:, None] >> np.arange(n_behaviours)[None, :]) & 1).astype(bool)  # (M, B)
    # Boredom moves each taste level one down (negative stays negative).
    bored_probs = bored_levels(taste_probs)  # (K, B, 4)
    per_pair = np.where(done[None, :, :, None], bored_probs[:, None], taste_probs[:, None])  # (K, M, B, 4)
    combo_level = np.where(done, POSITIVE, DELIGHTED) - NEGATIVE  # (M, B): delighted, bored -> positive
    combo_onehot = np.eye(4)[combo_level]  # (M, B, 4)
    before_done = done[:, combos[:, 0]].T  # (K, M)
    active = before_done[:, :, None] & (np.arange(n_behaviours)[None, None, :] == combos[:, 1, None, None])  # (K, M, B)
    per_pair = np.where(active[..., None], combo_onehot[None], per_pair)
    probs = np.einsum("k,kmbc->mbc", weights, per_pair)  # (M, B, 4)
    return (1.0 - noise) * probs + noise / 4.0


def plan_day(
    meet_prob: np.ndarray,
    reaction_prob: np.ndarray,
    valid: np.ndarray,
    day_bonus: float,
    good_day_affection: int,
    first_slot: int = 0,
) -> np.ndarray:
    """Best action for every (slot, behaviours done with her today, affection) by backward induction.

    `meet_prob` ``(T, P)``: P(she is at place p at slot t); `reaction_prob` ``(2**B, B, 4)`` from
    `reaction_probabilities`; `valid` ``(P, B)``. Maximizes the day's expected affection plus the
    good-day bonus, treating the slots as independent given these probabilities (exact for a known
    task). Returns ``best[t, mask, affection + T]`` (action indices) for slots ``first_slot..T-1``;
    rows before `first_slot` are left at 0.
    """
    n_slots, n_places = meet_prob.shape
    n_masks, n_behaviours, _ = reaction_prob.shape
    n_aff = 3 * n_slots + 1  # affection in [-T, 2T], stored at index affection + T
    deltas = AFFECTION[NEGATIVE:]  # (4,)
    affection = np.arange(n_aff) - n_slots
    value = np.broadcast_to(np.where(affection >= good_day_affection, day_bonus, 0.0), (n_masks, n_aff))
    after_mask = np.arange(n_masks)[:, None] | (1 << np.arange(n_behaviours))[None, :]  # (M, B)
    shifted = np.clip(np.arange(n_aff)[None, :] + deltas[:, None], 0, n_aff - 1)  # (4, A)
    impossible = ~valid.reshape(-1)
    best = np.zeros((n_slots, n_masks, n_aff), dtype=np.int64)
    for t in range(n_slots - 1, first_slot - 1, -1):
        following = value[after_mask][:, :, shifted]  # (M, B, 4, A): value after reaction c
        meet_value = np.einsum("mbc,mbca->mba", reaction_prob, deltas[None, None, :, None] + following)  # (M, B, A)
        p = meet_prob[t][None, :, None, None]  # (1, P, 1, 1)
        q = p * meet_value[:, None] + (1.0 - p) * value[:, None, None, :]  # (M, P, B, A)
        q = q.reshape(n_masks, n_places * n_behaviours, n_aff)
        q[:, impossible] = -np.inf
        best[t] = q.argmax(axis=1)
        value = np.take_along_axis(q, best[t][:, None, :], axis=1)[:, 0]  # (M, A)
    return best
