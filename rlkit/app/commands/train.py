"""Train an agent and write a run directory (config, model, checkpoints, TensorBoard events, metrics).

  rlkit train                                 PPO on rlkit/GridWorld-v0
  rlkit train ppo CartPole-v1 --steps 50000
  rlkit train dqn rlkit/GridWorld-v0 --algo-kwargs learning_starts=1000 --seed 3
  rlkit train sac mypkg.envs:MyEnv-v0         imports mypkg.envs first (it registers MyEnv-v0)
  rlkit train --config experiments/ppo_cartpole.yaml --set algo_kwargs.n_epochs=10

Settings are layered, each layer overriding fields of the one below: the schema's defaults (or the
tuned preset of the ALGO/ENV pair), then --config FILE, then these options, then --set KEY=VALUE
(value parsed as YAML). Unknown keys are errors. The first line says how many steps will be trained
(SB3 trains whole rollouts; see rlkit.app.budget for how n_steps is chosen to keep the budget), and
each periodic evaluation prints a line. Ctrl-C (or SIGTERM) saves a checkpoint at the next
rollout boundary and prints the `rlkit resume` command; a second Ctrl-C stops at once.
"""

from __future__ import annotations

import argparse
import sys
import time

from rlkit.app.flags import FIELD_FLAGS, KWARG_FLAGS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agents import algo_names
    from rlkit.app.config import DEFAULT_ALGO, DEFAULT_ENV_ID, EvalConfig, ExperimentConfig, PolicyConfig, field_help

    S = argparse.SUPPRESS  # unset options do not override the config; their defaults are in the help
    parser.add_argument("algo", nargs="?", default=S, metavar="ALGO",
                        help=f"algorithm: {', '.join(algo_names())}, or gail (with --demos, --algo) (default: {DEFAULT_ALGO}, or the config's)")  # fmt: skip
    parser.add_argument("env", nargs="?", default=S, metavar="ENV",
                        help="Gymnasium env id, e.g. CartPole-v1, rlkit/HVAC-v0, or module:EnvId to import your module "
                             f"first (default: {DEFAULT_ENV_ID}, or the config's)")  # fmt: skip
    parser.add_argument("--config", default=S, metavar="FILE", help="YAML experiment config, e.g. experiments/ppo_cartpole.yaml (default: none)")
    parser.add_argument("--set", dest="overrides", action="append", default=S, metavar="KEY=VALUE",
                        help="override any config field by its dotted path, value parsed as YAML; repeatable, e.g. "
                             "--set algo_kwargs.n_steps=64 --set env.normalize.obs=true (default: none)")  # fmt: skip
    parser.add_argument("--encoder", default=S, metavar="NAME",
                        help="rlkit encoder as the policy's features extractor (rlkit.nn.encoder_names()) (default: SB3's extractor)")
    parser.add_argument("--encoder-kwargs", nargs="+", action="extend", default=S, metavar="KEY=VALUE",
                        help="encoder options, e.g. hidden_sizes=[128,128] for mlp, features_dim=256 for cnn (default: none)")
    parser.add_argument("--algo-kwargs", nargs="+", action="extend", default=S, metavar="KEY=VALUE",
                        help="algorithm hyperparameters, e.g. n_steps=64 learning_rate=lin_0.001 (default: the preset's or SB3's)")
    parser.add_argument("--env-kwargs", nargs="+", action="extend", default=S, metavar="KEY=VALUE",
                        help="env constructor arguments, e.g. size=8 slip_prob=0.1 (default: none)")
    parser.add_argument("--wrapper", dest="wrappers", action="append", default=S, metavar="NAME",
                        help="add a Gymnasium wrapper around each env copy: a gymnasium.wrappers class name or module:Class; "
                             "repeatable; options via --set env.wrappers='[{name: ..., kwargs: {...}}]' (default: none)")  # fmt: skip
    parser.add_argument("--init-encoder", default=S, metavar="CKPT",
                        help="start the policy's encoder from a checkpoint of `rlkit pretrain vae|seq` (sets --encoder) (default: none)")
    parser.add_argument("--init-policy", default=S, metavar="CKPT",
                        help="start encoder and actor head from `rlkit pretrain bc`'s policy.pt (ppo, a2c, trpo; sac, td3, ddpg from "
                             "--head squashed) (default: none)")  # fmt: skip
    parser.add_argument("--freeze-encoder", action="store_true", default=S,
                        help="keep the pretrained encoder fixed while the heads train (default: fine-tune it)")
    parser.add_argument("--critic-warmup-steps", type=int, default=S, metavar="N",
                        help=field_help(PolicyConfig, "critic_warmup_steps"))  # fmt: skip
    parser.add_argument("--demos", default=S, metavar="PATH",
                        help="adversarial imitation: train on a GAIL discriminator's reward against this `rlkit collect` dataset "
                             "(rlkit train gail ENV --demos D.npz; gail.* options via --set) (default: the env's reward)")  # fmt: skip
    parser.add_argument("--algo", dest="gail_algo", default=S, metavar="NAME", help="with ALGO gail: the agent trained on its reward, ppo, a2c, sac or td3 (default: ppo)")
    parser.add_argument("--bc-data", default=S, metavar="PATH", help=field_help(PolicyConfig, "bc_data"))
    parser.add_argument("--bc-weight", type=float, default=S, metavar="W", help=field_help(PolicyConfig, "bc_weight"))
    preset = ", unless a preset or --config sets it"
    parser.add_argument("--n-envs", type=int, default=S, metavar="N", help=field_help(ExperimentConfig, "n_envs", preset))
    parser.add_argument("--seed", type=int, default=S, metavar="N", help=field_help(ExperimentConfig, "seed"))
    parser.add_argument("--steps", type=int, default=S, metavar="N", help=field_help(ExperimentConfig, "total_steps", preset))
    parser.add_argument("--device", default=S, help=field_help(ExperimentConfig, "device"))
    parser.add_argument("--threads", type=int, default=S, metavar="N", help=field_help(ExperimentConfig, "threads"))
    parser.add_argument("--logdir", default=S, metavar="DIR", help=field_help(ExperimentConfig, "logdir"))
    parser.add_argument("--eval-every", type=int, default=S, metavar="N", help=field_help(EvalConfig, "every", preset))
    parser.add_argument("--eval-episodes", type=int, default=S, metavar="N", help=field_help(EvalConfig, "episodes", preset))
    parser.add_argument("--checkpoint-every", type=int, default=S, metavar="N", help=field_help(ExperimentConfig, "checkpoint_every"))
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                        help="show a progress bar (default: when stderr is a terminal)")  # fmt: skip
    group = parser.add_argument_group("several seeds (rlkit.app.sweeps)")
    group.add_argument("--seeds", default=S, metavar="SEEDS",
                       help="train the same config once per seed, e.g. 0-4 or 0,3,7, in parallel; then a summary table "
                            "(mean ± std of the final evaluation) and `rlkit curves` over the group (default: one run, --seed)")  # fmt: skip
    group.add_argument("--workers", type=int, default=S, metavar="N", help="runs at a time with --seeds (default: the number of CPU cores)")
    group.add_argument("--backend", choices=("local", "ray"), default=S,
                       help="with --seeds: local processes, or Ray tasks (pip install 'rlkit[ray]') (default: local)")  # fmt: skip
    group.add_argument("--ray-address", default=S, metavar="ADDR",
                       help="with --backend ray: address of an existing Ray cluster (default: start a local Ray instance)")  # fmt: skip


# Config fields set by the options of rlkit.app.flags (FIELD_FLAGS, KWARG_FLAGS), in the order they are applied.
_FIELDS = (
    "n_envs", "seed", "total_steps", "device", "threads", "logdir", "eval.every", "eval.episodes",
    "checkpoint_every", "policy.critic_warmup_steps", "policy.bc_weight",
)  # fmt: skip
_KWARG_FIELDS = ("policy.encoder_kwargs", "algo_kwargs", "env.kwargs")


def _dest(option: str) -> str:
    """The attribute argparse stores an option in: ``--eval-every`` -> ``eval_every``."""
    return option.lstrip("-").replace("-", "_")


def build_config(args: argparse.Namespace):
    """The `ExperimentConfig` the options describe (layering as in the module docstring)."""
    import copy

    from rlkit.app.config import (
        DEFAULT_ALGO,
        DEFAULT_ENV_ID,
        config_from_dict,
        parse_assignment,
        preset,
        read_config_file,
        set_path,
    )

    algo, env = getattr(args, "algo", None), getattr(args, "env", None)
    algo, demos = _gail_options(algo, getattr(args, "demos", None), getattr(args, "gail_algo", None))
    config_file = getattr(args, "config", None)
    if config_file is not None:
        data = read_config_file(config_file)
        config_from_dict(copy.deepcopy(data), config_file)  # an unknown key is reported against the file
        source = config_file
    else:
        data = preset(algo or DEFAULT_ALGO, env or DEFAULT_ENV_ID)
        source = "command line"
    if algo is not None:
        data["algo"] = algo
    if env is not None:
        set_path(data, ["env", "id"], env)
    if getattr(args, "encoder", None) is not None:
        set_path(data, ["policy", "encoder"], args.encoder)
    if demos is not None:
        set_path(data, ["gail", "demos"], demos)
    for dest in ("init_encoder", "init_policy", "freeze_encoder", "bc_data"):
        if getattr(args, dest, None) is not None:
            set_path(data, ["policy", dest], getattr(args, dest))
    for path in _KWARG_FIELDS:
        option = KWARG_FLAGS[path]
        for item in getattr(args, _dest(option), None) or []:
            keys, value = parse_assignment(item, option)
            set_path(data, path.split(".") + keys, value)
    for path in _FIELDS:
        option = FIELD_FLAGS[path]
        dest = _dest(option)
        value = getattr(args, dest, None)
        if value is None:
            continue
        if dest in ("steps", "n_envs", "eval_episodes") and value <= 0:
            raise ValueError(f"{option} must be a positive integer, got {value}")
        if dest == "threads" and value < 0:
            raise ValueError(f"{option} must be 0 (torch's default) or a positive number of threads, got {value}")
        if dest in ("eval_every", "checkpoint_every", "critic_warmup_steps") and value < 0:
            raise ValueError(f"{option} must be 0 (never) or a positive number of steps, got {value}")
        if dest == "bc_weight" and not value >= 0:
            raise ValueError(f"{option} must be a weight >= 0 (0 = off), got {value}")
        set_path(data, path.split("."), value)
    if getattr(args, "wrappers", None):
        env_data = data.setdefault("env", {})
        if isinstance(env_data, str):
            env_data = data["env"] = {"id": env_data}
        env_data["wrappers"] = list(env_data.get("wrappers") or []) + list(args.wrappers)
    overrides = getattr(args, "overrides", None) or []
    for text in overrides:
        keys, value = parse_assignment(text)
        set_path(data, keys, value)
    if overrides:
        source = f"{source} with --set"
    return config_from_dict(data, source)


def _gail_options(algo: str | None, demos: str | None, gail_algo: str | None) -> tuple[str | None, str | None]:
    """``rlkit train gail ENV --demos D [--algo sac]`` -> (``sac``, ``D``); ``--algo`` belongs to ``gail`` only."""
    if algo is not None and algo.strip().lower() == "gail":
        if demos is None:
            raise ValueError("rlkit train gail needs the expert's dataset: add --demos DATA.npz (from `rlkit collect`)")
        return gail_algo or "ppo", demos
    if gail_algo is not None:
        raise ValueError(f"--algo {gail_algo} applies to `rlkit train gail`; otherwise name the algorithm as ALGO (rlkit train {gail_algo} ENV)")
    return algo, demos


def _progress(args: argparse.Namespace) -> bool:
    progress = getattr(args, "progress", None)
    return sys.stderr.isatty() if progress is None else bool(progress)


def report(result, config, command: str = "train") -> int:
    """Print how a run ended (shared with `rlkit resume`); returns the exit code."""
    from pathlib import Path

    from rlkit.app.evaluation import format_metrics
    from rlkit.app.run_dir import MODEL_FILE

    if result.status == "finished":
        metrics = result.metrics
        print(f"final evaluation: {format_metrics(metrics)}")
        print(f"model: {Path(result.run_dir) / MODEL_FILE}")
        print(f"TensorBoard: tensorboard --logdir {Path(result.run_dir).parent}")
        return 0
    if result.status == "diverged":
        print(f"rlkit {command}: error: {result.message}", file=sys.stderr)
    else:
        print(f"rlkit {command}: {result.message}", file=sys.stderr)
    return result.exit_code


def run(args: argparse.Namespace) -> int:
    from rlkit.app.training import train

    config = build_config(args)
    if getattr(args, "seeds", None) is not None:
        return run_seed_group(args, config)
    for dest, option in (("workers", "--workers"), ("backend", "--backend"), ("ray_address", "--ray-address")):
        if getattr(args, dest, None) is not None:
            raise ValueError(f"{option} applies to several runs; add --seeds (e.g. --seeds 0-4) or drop {option}")

    printer = EvalPrinter()

    def started(run_dir, plan) -> None:
        print(
            f"training {config.algo}{' on a GAIL reward' if config.gail else ''} on {config.env.id} for {plan.describe()}; "
            f"{config.n_envs} envs, {threads_text(config.threads)}, seed {config.seed}; run directory: {run_dir}",
            flush=True,
        )
        printer.start(0)

    result = train(config, progress_bar=_progress(args), on_start=started, on_eval=printer)
    return report(result, config)


def threads_text(threads: int) -> str:
    """``1 torch thread`` / ``4 torch threads`` / ``torch's default threads``, for run headers."""
    if not threads:
        return "torch's default threads"
    return f"{threads} torch thread{'s' if threads != 1 else ''}"


class EvalPrinter:
    """``on_eval`` hook printing one line per periodic evaluation (step, mean ± std return, env steps per
    second of wall time since `start`), flushed, whether or not stdout is a terminal."""

    def __init__(self) -> None:
        self.started_at, self.first_step = time.perf_counter(), 0

    def start(self, step: int) -> None:
        self.started_at, self.first_step = time.perf_counter(), step

    def __call__(self, step: int, metrics: dict) -> None:
        elapsed = max(time.perf_counter() - self.started_at, 1e-9)
        fps = (step - self.first_step) / elapsed
        std = metrics["std_reward"] if abs(metrics["std_reward"]) > 1e-9 else 0.0
        print(f"step {step:,}: eval return {metrics['mean_reward']:.4g} ± {std:.3g} over {metrics['episodes']} episodes; "
              f"{fps:,.0f} steps/s", flush=True)  # fmt: skip


def run_seed_group(args: argparse.Namespace, config) -> int:
    """``--seeds``: one run per seed (rlkit.app.sweeps.run_seeds), a summary table, then `rlkit curves` over the group."""
    from rlkit.app.commands import curves
    from rlkit.app.evaluation import format_metrics
    from rlkit.app.sweeps import default_workers, parse_seeds, run_seeds

    if getattr(args, "seed", None) is not None:
        raise ValueError("--seed and --seeds both given; use --seeds alone (e.g. --seeds 0-4)")
    seeds = parse_seeds(args.seeds)
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be a positive number of runs at a time, got {workers}")
    workers = workers or min(default_workers(), len(seeds))
    backend = getattr(args, "backend", None) or "local"
    print(f"training {config.algo} on {config.env.id} for {config.total_steps:,} steps over seeds {args.seeds} "
          f"({len(seeds)} runs, {workers} at a time, {backend})", flush=True)  # fmt: skip

    def done(seed: int, outcome: dict) -> None:
        what = format_metrics(outcome["metrics"]) if outcome["status"] == "finished" else outcome["message"]
        print(f"seed {seed}: {outcome['status']}: {what}", flush=True)

    group = run_seeds(config, seeds, workers=workers, backend=backend, ray_address=getattr(args, "ray_address", None), on_done=done)
    _print_group(group)
    finished = [r for r in group.runs if r["status"] == "finished"]
    if finished:
        png = group.directory / "curves.png"
        curves.run(argparse.Namespace(runs=[r["run_dir"] for r in finished], tag=None, png=str(png), title=None))
    print(f"TensorBoard: tensorboard --logdir {group.directory}")
    return 0 if len(finished) == len(seeds) else 1


def _print_group(group) -> None:
    from rich.console import Console
    from rich.table import Table

    from pathlib import Path

    table = Table(title=f"Final evaluation over {len(group.seeds)} seeds (runs in {group.directory})")
    for name in ("seed", "status", "mean return", "std", "steps", "run"):
        table.add_column(name, justify="left" if name in ("status", "run") else "right", no_wrap=True, min_width=len(name))
    for seed, r in zip(group.seeds, group.runs):
        metrics = r["metrics"] if r["status"] == "finished" else None
        table.add_row(str(seed), r["status"], f"{metrics['mean_reward']:.4g}" if metrics else "-",
                      f"{metrics['std_reward']:.3g}" if metrics else "-", str(r["steps"]), Path(r["run_dir"]).name if r["run_dir"] else r["message"])  # fmt: skip
    mean, std = group.mean_std()
    n = len(group.final_rewards())
    table.add_section()
    table.add_row("all", f"{n} finished", f"{mean:.4g}", f"{std:.3g}", "", "mean ± std over seeds of each run's mean return")
    Console(width=max(100, 70 + max(len(Path(r["run_dir"] or "").name) for r in group.runs))).print(table)
