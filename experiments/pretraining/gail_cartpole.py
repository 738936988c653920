"""Adversarial imitation on CartPole-v1: GAIL (PPO on the discriminator's reward) vs BC from the same demos.

    python experiments/pretraining/gail_cartpole.py --out runs/gail [--expert RUN] [--episodes 10,50] [--seeds 0,1,2]

1. The demonstrator: ``--expert RUN`` (a run directory of ``rlkit train``), or ``rlkit train ppo CartPole-v1``
   (the preset) for ``--expert-steps``.
2. Demos: ``rlkit collect CartPole-v1 --policy RUN`` for ``500 * N`` steps (N = 10, 50 episodes of at most 500 steps).
3. Per demo size and seed: ``rlkit train gail CartPole-v1 --demos D`` for ``--steps`` env steps (PPO with the
   CartPole preset, evaluated every ``--eval-every`` steps on the env's own reward), and ``rlkit pretrain bc D``
   evaluated with ``rlkit eval policy.pt``.

Prints a markdown table (and writes ``OUT/gail_cartpole.md``): the demonstrator's return, GAIL's final return and
the env steps its evaluations first reach 95% of the demonstrator's, BC's return.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np

from rlkit.app.cli import main as rlkit
from rlkit.tb import read_scalars

ENV_ID = "CartPole-v1"


def call(*argv: str) -> str:
    """Run an rlkit command in this process; its stdout (it must succeed)."""
    out = StringIO()
    with redirect_stdout(out):
        code = rlkit(list(argv))
    if code != 0:
        raise SystemExit(f"rlkit {' '.join(argv)} exited {code}:\n{out.getvalue()}")
    return out.getvalue()


def only_child(directory: Path) -> Path:
    (child,) = [p for p in directory.iterdir() if p.is_dir()]
    return child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/gail")
    parser.add_argument("--expert", default=None, metavar="RUN")
    parser.add_argument("--expert-steps", type=int, default=100_000)
    parser.add_argument("--episodes", default="10,50", help="demo sizes in episodes")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=100_000, help="GAIL env steps per run")
    parser.add_argument("--eval-every", type=int, default=10_000)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    expert = Path(args.expert) if args.expert else None
    if expert is None:
        call("train", "ppo", ENV_ID, "--steps", str(args.expert_steps), "--logdir", str(out / "expert"), "--no-progress")
        expert = only_child(out / "expert")
    expert_return = json.loads(call("eval", str(expert), "--episodes", "20", "--json"))["mean_reward"]
    rows = []
    for n in (int(e) for e in args.episodes.split(",")):
        demos = out / f"demos_{n}.npz"
        if not demos.exists():
            call("collect", ENV_ID, "--policy", str(expert), "--steps", str(500 * n), "--out", str(demos))
        for seed in (int(s) for s in args.seeds.split(",")):
            start = time.time()
            logdir = out / f"gail_{n}_s{seed}"
            call("train", "gail", ENV_ID, "--demos", str(demos), "--steps", str(args.steps), "--seed", str(seed),
                 "--eval-every", str(args.eval_every), "--eval-episodes", "10", "--logdir", str(logdir), "--no-progress")  # fmt: skip
            run = only_child(logdir)
            gail_seconds = time.time() - start
            final = json.loads((run / "metrics.json").read_text())["mean_reward"]
            steps, values = read_scalars(run)["eval/mean_reward"]
            reached = steps[np.flatnonzero(values >= 0.95 * expert_return)]
            bc_dir = out / f"bc_{n}_s{seed}"
            call("pretrain", "bc", str(demos), "--seed", str(seed), "--logdir", str(bc_dir))
            bc = json.loads(call("eval", str(only_child(bc_dir) / "policy.pt"), "--episodes", "10", "--json"))["mean_reward"]
            rows.append(f"| {n} | {seed} | {expert_return:.1f} | {final:.1f} | {int(reached[0]) if len(reached) else '—'} | "
                        f"{bc:.1f} | {gail_seconds:.0f} |")  # fmt: skip
            print(rows[-1], flush=True)
    table = ["| demo episodes | seed | demonstrator | GAIL final | GAIL steps to 95% | BC | GAIL s |", "|---|---|---|---|---|---|---|", *rows]
    (out / "gail_cartpole.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
