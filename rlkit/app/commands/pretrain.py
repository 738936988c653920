"""Pretrain an encoder on a dataset from `rlkit collect`: a (β-)VAE, behaviour cloning, a diffusion policy, or next-step sequence prediction.

  rlkit pretrain vae data/grid.npz --encoder cnn --latent 16 --beta 1
  rlkit pretrain bc data/hvac.npz --epochs 50
  rlkit pretrain seq data/gh.npz --encoder gru
  rlkit pretrain diffusion data/grid.npz --steps-denoise 10

Each writes a run directory (<logdir>/pretrain-<task>__<env>__<encoder>__s<seed>__<time>/) with
TensorBoard events (pretrain/recon_loss, pretrain/kl, …), config.json, metrics.json and the
checkpoint: encoder.pt (vae, seq; and bc, diffusion), policy.pt (bc: encoder + actor head; diffusion: encoder +
denoiser, which `rlkit eval RUN/policy.pt` and `rlkit enjoy RUN/policy.pt` run as a policy). Start an agent from it:

  rlkit train ppo rlkit/GridWorld-Image-v0 --init-encoder RUN/encoder.pt [--freeze-encoder]
  rlkit train ppo rlkit/HVAC-v0 --init-policy RUN/policy.pt
  rlkit train sac rlkit/HVAC-v0 --init-policy RUN/policy.pt      (from `pretrain bc --head squashed`)
  rlkit train ppo-seq rlkit/GroundhogDay-v0 --init-encoder RUN/encoder.pt
"""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("data", metavar="DATA", help="dataset written by `rlkit collect` (.npz)")
    common.add_argument("--epochs", type=int, default=None, metavar="N", help="passes over the data (default: per task)")
    common.add_argument("--batch-size", type=int, default=None, metavar="N", help="minibatch size (default: per task)")
    common.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    common.add_argument("--holdout", type=float, default=0.1, help="fraction of episodes held out for validation")
    common.add_argument("--seed", type=int, default=0, help="seed of weights, split and minibatches")
    common.add_argument("--logdir", default="runs", metavar="DIR", help="directory the run directory is created in")
    common.add_argument("--encoder-kwargs", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help="encoder options")
    common.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N, or auto (CUDA when available)")
    from rlkit.app.cli import _HelpFormatter as formatter
    vae = sub.add_parser("vae", parents=[common], help="β-VAE on the observations", formatter_class=formatter)
    vae.add_argument("--encoder", choices=("cnn", "mlp"), default="cnn", help="VAE body: cnn for (C, H, W), mlp for vectors")
    vae.add_argument("--latent", type=int, default=16, metavar="D", help="latent size (= features of the encoder)")
    vae.add_argument("--beta", type=float, default=1.0, metavar="B", help="weight of the KL term (β-VAE)")
    bc = sub.add_parser("bc", parents=[common], help="behaviour cloning (encoder + actor head)", formatter_class=formatter)
    bc.add_argument("--encoder", default="mlp", help="feed-forward rlkit encoder (mlp, cnn, vae, …)")
    bc.add_argument("--net-arch", default="64,64", help="actor layers after the encoder, as SB3's net_arch pi")
    bc.add_argument("--activation", default="Tanh", help="activation of the actor layers (torch.nn name; PPO's default Tanh)")
    bc.add_argument("--exploration-std", type=float, default=None, metavar="S",
                    help="Box actions: save the Gaussian std as S instead of the fitted one (near 0 for a deterministic teacher)")
    bc.add_argument("--head", choices=("gaussian", "squashed"), default="gaussian",
                    help="Box actions: gaussian (PPO's unsquashed Gaussian; starts ppo, a2c, trpo) or squashed "
                         "(tanh-squashed to the Box as SAC's actor; starts sac, td3, ddpg, with --activation ReLU as theirs)")  # fmt: skip
    bc.add_argument("--patience", type=int, default=5, help="early stopping: epochs without held-out improvement")
    seq = sub.add_parser("seq", parents=[common], help="next-observation and reward prediction", formatter_class=formatter)
    seq.add_argument("--encoder", choices=("lstm", "gru", "tcn", "transformer"), default="gru", help="sequence encoder")
    seq.add_argument("--chunk-len", type=int, default=32, metavar="L", help="steps per training sequence (within one episode)")
    seq.add_argument("--patience", type=int, default=5, help="early stopping: epochs without held-out improvement")
    from rlkit.app.commands import pretrain_diffusion

    pretrain_diffusion.add_parser(sub, common, formatter)


def _kwargs(items: list[str]) -> dict[str, Any]:
    from rlkit.app.config import parse_assignment, set_path

    out: dict[str, Any] = {}
    for item in items:
        keys, value = parse_assignment(item, "--encoder-kwargs")
        set_path(out, keys, value)
    return out


# task -> (epochs, batch size) when the option is not given.
_DEFAULTS = {"vae": (20, 128), "bc": (50, 256), "seq": (30, 32), "diffusion": (100, 256)}


def _net_arch(text: str) -> list[int]:
    """``--net-arch 64,64`` -> ``[64, 64]``; empty: no hidden layers."""
    try:
        sizes = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        sizes = [0]
    if any(n < 1 for n in sizes):
        raise ValueError(f"--net-arch {text!r}: expected comma-separated positive layer sizes, e.g. --net-arch 64,64")
    return sizes


def _device(device: str) -> str:
    from stable_baselines3.common.utils import get_device

    from rlkit.app.validation import check_device

    check_device(device)  # get_device would quietly fall back to the CPU for a CUDA device this machine lacks
    return str(get_device(device))  # "auto": CUDA when available


def run(args: argparse.Namespace) -> int:
    from rlkit.pretrain import common
    from rlkit.pretrain.dataset import load_dataset

    # Checked before the run directory exists; the trainers check the rest (holdout, lr, latent, ...).
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be a positive integer, got {value}")
    epochs, batch_size = (default if given is None else given for given, default in zip((args.epochs, args.batch_size), _DEFAULTS[args.task]))
    net_arch = _net_arch(args.net_arch) if args.task == "bc" else _net_arch(args.hidden) if args.task == "diffusion" else None
    device = _device(args.device)
    dataset = load_dataset(args.data)
    encoder_kwargs = _kwargs(args.encoder_kwargs)
    env_id = dataset.manifest.get("env_id", "unknown")
    settings = {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "command"}
    run_dir = common.create_run_dir(args.logdir, args.task, env_id, args.encoder, args.seed)
    try:
        common.write_json(run_dir / common.CONFIG_FILE, {**settings, "dataset_manifest": dataset.manifest})
        meta = {"dataset": str(args.data), "env_id": env_id, "env_kwargs": dict(dataset.manifest.get("env_kwargs") or {})}
        if args.task == "vae":
            from rlkit.pretrain.vae import save_vae, train_vae

            result = train_vae(dataset, args.encoder, args.latent, args.beta, epochs, batch_size,
                               args.lr, args.holdout, args.seed, run_dir, encoder_kwargs, device)  # fmt: skip
            save_vae(result, run_dir / common.ENCODER_FILE, **meta)
            last = result.history[-1]
            summary = f"recon_loss {last['val_recon_loss']:.4g}, kl {last['val_kl']:.4g} (held out)"
            metrics: dict[str, Any] = {"history": result.history}
        elif args.task == "bc":
            from rlkit.nn import save_encoder
            from rlkit.pretrain.bc import save_bc, train_bc

            result = train_bc(dataset, args.encoder, encoder_kwargs, net_arch, args.activation, epochs,
                              batch_size, args.lr, args.holdout, args.patience, args.seed, run_dir, device,
                              head=args.head)  # fmt: skip
            save_bc(result, run_dir / common.POLICY_FILE, args.exploration_std, **meta)
            save_encoder(result.policy.encoder, run_dir / common.ENCODER_FILE, task="bc", **meta)
            best = result.history[result.best_epoch]
            score = "val_accuracy" if "val_accuracy" in best else "val_mse"
            summary = f"best epoch {result.best_epoch}: {score} {best[score]:.4g}, val_loss {best['val_loss']:.4g}"
            metrics = {"history": result.history, "best_epoch": result.best_epoch, score: best[score]}
        elif args.task == "diffusion":
            from rlkit.app.commands.pretrain_diffusion import run_task

            summary, metrics = run_task(args, dataset, run_dir, epochs, batch_size, encoder_kwargs, device, meta, net_arch)
        else:
            from rlkit.pretrain.seq import save_seq, train_seq

            result = train_seq(dataset, args.encoder, encoder_kwargs, args.chunk_len, epochs, batch_size,
                               args.lr, 1.0, args.holdout, args.patience, args.seed, run_dir, device)  # fmt: skip
            save_seq(result, run_dir / common.ENCODER_FILE, **meta)
            best = result.history[result.best_epoch]
            base = result.baselines
            summary = (f"best epoch {result.best_epoch}: val obs mse {best['val_obs_mse']:.4g} (copy-last {base.get('copy_obs_mse', float('nan')):.4g}), "
                       f"reward mse {best['val_reward_mse']:.4g} (mean {base.get('mean_reward_mse', float('nan')):.4g})")  # fmt: skip
            metrics = {"history": result.history, "best_epoch": result.best_epoch, "baselines": base}
        common.write_json(run_dir / common.METRICS_FILE, metrics)
    except BaseException:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)  # bad input leaves no run behind
        raise
    print(f"pretrain {args.task}: {summary}")
    print(f"checkpoint: {run_dir / (common.POLICY_FILE if args.task in ('bc', 'diffusion') else common.ENCODER_FILE)}")
    return 0
