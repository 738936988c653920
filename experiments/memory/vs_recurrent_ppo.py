"""Sample efficiency on a task that needs memory: sb3-contrib's RecurrentPPO vs sequence PPO's LSTM (and SB3's MLP PPO).

CartPole-v1 with its velocities hidden (zeroed, as RL Zoo's ``CartPoleNoVel-v1``): the policy sees the cart's
position and the pole's angle only, and must infer the velocities from the steps before. Every agent is built by
`rlkit.app.bench.train_memory.build_models`, so it has the speed bench's settings (8 envs, n_steps 128, batch 256,
10 epochs, lr 3e-4, γ 0.99, λ 0.95, width 64, a separate critic LSTM, ``bptt_len`` 32), on one torch thread,
with the same seeds and env steps. Every ``--every`` steps: the mean return of the last 100 training episodes
(Monitor, stochastic policy); at the end a deterministic evaluation on 20 seeded episodes (seeds 1000 + 100 × seed
onwards) and the run's wall and CPU time.

  python -m experiments.memory.vs_recurrent_ppo                       # 3 seeds x 3 agents, 100k steps, 2 workers
  python -m experiments.memory.vs_recurrent_ppo --steps 4096 --every 2048 --seeds 0 --out /tmp/vs   # smoke run

Writes ``--out`` (default ``experiments/memory/results``): ``vs_recurrent_ppo.json``, ``vs_recurrent_ppo.md``
(the table) and ``vs_recurrent_ppo.png`` (training return against env steps, mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

AGENTS = {"rppo": "RecurrentPPO (sb3-contrib)", "lstm": "ppo-seq lstm", "mlp": "PPO MLP (SB3)"}
ENV_ID = "CartPole-v1"


def hide_velocities(env):
    """CartPole's observation with the cart's and the pole's velocities set to 0 (same space, as RL Zoo's
    ``MaskVelocityWrapper``): Gymnasium's ``TransformObservation`` with a fixed mask."""
    import numpy as np
    from gymnasium.wrappers import TransformObservation

    visible = np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32)  # x, x_dot, theta, theta_dot
    return TransformObservation(env, lambda obs: obs * visible, env.observation_space)


def run_one(agent: str, seed: int, steps: int, every: int) -> dict:
    """One agent and seed: the training curve and the final evaluation."""
    import numpy as np
    import torch
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    from rlkit.app.bench.train_memory import build_models

    torch.set_num_threads(1)
    models = build_models(ENV_ID, 8, 64, seed, ("lstm",) if agent == "lstm" else (), wrapper_class=hide_velocities,
                          reference=agent == "rppo", mlp=agent == "mlp")  # fmt: skip
    (model,) = models.values()
    curve_steps, curve_values = [], []
    wall, cpu = time.perf_counter(), time.process_time()
    while model.num_timesteps < steps:
        model.learn(min(every, steps - model.num_timesteps), reset_num_timesteps=False)
        curve_steps.append(int(model.num_timesteps))
        curve_values.append(float(np.mean([info["r"] for info in model.ep_info_buffer])) if model.ep_info_buffer else float("nan"))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    eval_env = make_vec_env(ENV_ID, n_envs=1, seed=1000 + 100 * seed, wrapper_class=hide_velocities)
    returns, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True, return_episode_rewards=True)
    return {"agent": agent, "seed": seed, "steps": curve_steps, "train_return": curve_values, "eval_mean": float(np.mean(returns)),
            "eval_std": float(np.std(returns)), "seconds": wall, "cpu_seconds": cpu}  # fmt: skip


def steps_to(record: dict, threshold: float) -> int | None:
    """First logged env step at which the training return reached `threshold` (None: never)."""
    return next((s for s, v in zip(record["steps"], record["train_return"]) if v >= threshold), None)


def table(records: list[dict], steps: int, threshold: float) -> str:
    import numpy as np

    lines = [
        f"| agent (CartPole-v1, velocities hidden; {steps:,} env steps) | training return at the end (last 100 episodes) "
        f"| deterministic evaluation (20 episodes) | env steps to a training return of {threshold:g} | steps/s | per seed (evaluation) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for agent, label in AGENTS.items():
        runs = sorted((r for r in records if r["agent"] == agent), key=lambda r: r["seed"])
        if not runs:
            continue
        final = np.array([r["train_return"][-1] for r in runs])
        evals = np.array([r["eval_mean"] for r in runs])
        reached = [steps_to(r, threshold) for r in runs]
        reach = f"{np.mean([s for s in reached if s is not None]):,.0f}" if all(s is not None for s in reached) else \
            f"{sum(s is not None for s in reached)} of {len(runs)} seeds reached it"  # fmt: skip
        speed = np.mean([r["steps"][-1] / r["seconds"] for r in runs])
        per_seed = ", ".join(f"{r['eval_mean']:.0f} (s{r['seed']})" for r in runs)
        lines.append(f"| {label} | {final.mean():.0f} ± {final.std():.0f} | {evals.mean():.0f} ± {evals.std():.0f} | {reach} "
                     f"| {speed:,.0f} | {per_seed} |")  # fmt: skip
    return "\n".join(lines)


def plot(records: list[dict], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlkit.app.curves import mean_over_runs

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for agent, label in AGENTS.items():
        runs = [r for r in records if r["agent"] == agent]
        if not runs:
            continue
        grid, mean, std = mean_over_runs([(r["steps"], r["train_return"]) for r in runs])
        (line,) = ax.plot(grid, mean, label=f"{label} — {len(runs)} seeds")
        ax.fill_between(grid, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("env steps")
    ax.set_ylabel("training return (last 100 episodes)")
    ax.set_title("CartPole-v1, velocities hidden")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", nargs="+", choices=list(AGENTS), default=list(AGENTS), help="agents to train (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default: 0 1 2)")
    parser.add_argument("--steps", type=int, default=100_000, help="env steps per run (default: %(default)s)")
    parser.add_argument("--every", type=int, default=8192, help="env steps between curve points (default: %(default)s)")
    parser.add_argument("--threshold", type=float, default=150.0, help="training return whose first crossing is reported (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="runs in parallel, one torch thread each (default: %(default)s)")
    parser.add_argument("--out", default=str(HERE / "results"), metavar="DIR", help="where results go (default: %(default)s)")
    args = parser.parse_args(argv)
    if min(args.steps, args.every, args.workers) < 1 or min(args.seeds) < 0:
        parser.error(f"--steps={args.steps}, --every={args.every} and --workers={args.workers} must be >= 1 and --seeds >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(agent, seed) for agent in args.agents for seed in args.seeds]
    jobs.sort(key=lambda job: job[0] != "rppo")  # the slowest first
    from rlkit.app.sweeps import make_executor

    executor = make_executor("local", args.workers)  # the executor of rlkit train --seeds
    try:
        futures = [executor.submit(run_one, agent, seed, args.steps, args.every) for agent, seed in jobs]
        records = []
        for future in futures:
            records.append(future.result())
            r = records[-1]
            print(f"{AGENTS[r['agent']]} seed {r['seed']}: evaluation {r['eval_mean']:.1f}, training return {r['train_return'][-1]:.1f}, "
                  f"{r['seconds']:.0f} s", flush=True)  # fmt: skip
    finally:
        executor.shutdown()
    (out / "vs_recurrent_ppo.json").write_text(json.dumps({"steps": args.steps, "records": records}, indent=2) + "\n")
    text = table(records, args.steps, args.threshold)
    (out / "vs_recurrent_ppo.md").write_text(text + "\n")
    plot(records, out / "vs_recurrent_ppo.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
