"""The ``diffusion`` task of `rlkit pretrain` (its options and its run), kept apart from the other tasks' module.

  rlkit pretrain diffusion data/grid.npz --steps-denoise 10
  rlkit eval RUN/policy.pt --env rlkit/GridWorld-v0           run it as a policy
  rlkit train ppo rlkit/GridWorld-v0 --init-encoder RUN/encoder.pt
"""

from __future__ import annotations

import argparse
from typing import Any

DEFAULTS = (100, 256)  # epochs, batch size


def add_parser(sub: Any, common: argparse.ArgumentParser, formatter: type) -> None:
    p = sub.add_parser("diffusion", parents=[common], formatter_class=formatter,
                       help="diffusion policy: an encoder + a denoiser of actions (DDPM training, DDIM sampling)")  # fmt: skip
    p.add_argument("--encoder", default="mlp", help="feed-forward rlkit encoder (mlp, cnn, vae, …)")
    p.add_argument("--steps-denoise", type=int, default=10, metavar="K", help="DDIM steps per action when the policy acts")
    p.add_argument("--diffusion-steps", type=int, default=100, metavar="T", help="steps of the training noise schedule")
    p.add_argument("--schedule", choices=("cosine", "linear"), default="cosine", help="noise schedule (betas)")
    p.add_argument("--prediction", choices=("sample", "epsilon"), default="sample", help="what the denoiser predicts: x_0 or the noise")
    p.add_argument("--hidden", default="256,256", help="denoiser layers after [features, noisy action, time embedding]")
    p.add_argument("--ema-decay", type=float, default=0.99, help="moving average of the weights kept as the policy (0: the last weights)")


def run_task(args: argparse.Namespace, dataset: Any, run_dir: Any, epochs: int, batch_size: int, encoder_kwargs: dict,
             device: str, meta: dict, hidden: list[int]) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """Train, write policy.pt and encoder.pt into ``run_dir``; returns (summary line, metrics)."""
    from rlkit.nn import save_encoder
    from rlkit.pretrain import common
    from rlkit.pretrain.diffusion.train import make_policy, save_diffusion, train_diffusion

    if not 1 <= args.steps_denoise <= args.diffusion_steps:
        raise ValueError(f"--steps-denoise {args.steps_denoise}: expected 1 to --diffusion-steps ({args.diffusion_steps}), e.g. 10")
    policy = make_policy(dataset, args.encoder, encoder_kwargs, hidden, args.diffusion_steps, args.schedule,
                         args.steps_denoise, args.seed, args.prediction)  # fmt: skip
    result = train_diffusion(dataset, policy, epochs, batch_size, args.lr, args.holdout, args.ema_decay, args.seed, run_dir, device)
    save_diffusion(result, run_dir / common.POLICY_FILE, **meta)
    save_encoder(result.policy.encoder, run_dir / common.ENCODER_FILE, task="diffusion", **meta)
    last = result.history[-1]
    summary = f"{len(result.history)} epochs: denoise_loss {last['denoise_loss']:.4g}, held out {last['val_denoise_loss']:.4g}"
    return summary, {"history": result.history, "denoise_loss": last["denoise_loss"], "val_denoise_loss": last["val_denoise_loss"]}
