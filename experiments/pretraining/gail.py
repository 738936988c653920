"""Adversarial imitation: GAIL (PPO on the discriminator's reward) vs BC from the same demos (CartPole-v1 by default).

    python experiments/pretraining/gail.py --out runs/gail [--env CartPole-v1] [--expert RUN] [--episodes 10,50] [--seeds 0,1,2]
    python experiments/pretraining/gail.py --out runs/gail-maze --env rlkit/GridWorld-Maze-v0 --expert optimal \
        --episode-steps 48 --episodes 10 --steps 200000 --eval-every 20000 --set n_envs=16 --set algo_kwargs.n_steps=64

1. The demonstrator: ``--expert`` (a run directory of ``rlkit train``, or a baseline name ``rlkit collect --policy``
   takes), or else ``rlkit train ppo ENV`` for ``--expert-steps``.
2. Demos: ``rlkit collect ENV --policy EXPERT`` for ``--episode-steps * N`` steps (N = ``--episodes``); the
   demonstrator's return is the mean return of the demo episodes.
3. Per demo size and seed: ``rlkit train gail ENV --demos D`` for ``--steps`` env steps (PPO, with the preset of the
   env where there is one, ``--set`` overrides, evaluated every ``--eval-every`` steps on the env's own reward),
   and ``rlkit pretrain bc D`` evaluated with ``rlkit eval policy.pt``.

Prints markdown tables (and writes ``OUT/gail.md``), per seed and mean ± std over seeds: the demonstrator's return,
GAIL's final return and the env steps its evaluations first reach 95% of the demonstrator's (within 5% of its
return, for negative ones), BC's return.
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
from rlkit.pretrain import load_dataset
from rlkit.tb import read_scalars



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
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--expert", default=None, metavar="RUN|BASELINE")
    parser.add_argument("--episode-steps", type=int, default=500, help="demo steps per requested episode (the env's episode length)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="passed to rlkit train gail")
    parser.add_argument("--expert-steps", type=int, default=100_000)
    parser.add_argument("--episodes", default="10,50", help="demo sizes in episodes")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=100_000, help="GAIL env steps per run")
    parser.add_argument("--eval-every", type=int, default=10_000)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    expert = args.expert
    if expert is None:
        call("train", "ppo", args.env, "--steps", str(args.expert_steps), "--logdir", str(out / "expert"), "--no-progress")
        expert = str(only_child(out / "expert"))
    extra = [item for text in args.overrides for item in ("--set", text)]
    rows, summary = [], []
    for n in (int(e) for e in args.episodes.split(",")):
        finals, bcs, reach = [], [], []
        demos = out / f"demos_{n}.npz"
        if not demos.exists():
            call("collect", args.env, "--policy", expert, "--steps", str(args.episode_steps * n), "--out", str(demos))
        expert_return = load_dataset(demos).manifest["mean_episode_return"]
        target = expert_return - 0.05 * abs(expert_return)
        for seed in (int(s) for s in args.seeds.split(",")):
            start = time.time()
            logdir = out / f"gail_{n}_s{seed}"
            call("train", "gail", args.env, "--demos", str(demos), "--steps", str(args.steps), "--seed", str(seed), "--eval-every",
                 str(args.eval_every), "--eval-episodes", "10", "--logdir", str(logdir), "--no-progress", *extra)  # fmt: skip
            run = only_child(logdir)
            gail_seconds = time.time() - start
            final = json.loads((run / "metrics.json").read_text())["mean_reward"]
            steps, values = read_scalars(run)["eval/mean_reward"]
            reached = steps[np.flatnonzero(values >= target)]
            bc_dir = out / f"bc_{n}_s{seed}"
            call("pretrain", "bc", str(demos), "--seed", str(seed), "--logdir", str(bc_dir))
            bc = json.loads(call("eval", str(only_child(bc_dir) / "policy.pt"), "--episodes", "10", "--json"))["mean_reward"]
            rows.append(f"| {n} | {seed} | {expert_return:.4g} | {final:.4g} | {int(reached[0]) if len(reached) else '—'} | "
                        f"{bc:.4g} | {gail_seconds:.0f} |")  # fmt: skip
            print(rows[-1], flush=True)
            finals.append(final)
            bcs.append(bc)
            reach.append(f"{int(reached[0]):,}" if len(reached) else "—")
        summary.append(f"| {n} | {expert_return:.4g} | {np.mean(finals):.4g} ± {np.std(finals):.2g} | {' / '.join(reach)} | "
                       f"{np.mean(bcs):.4g} ± {np.std(bcs):.2g} |")  # fmt: skip
    table = ["| demo episodes | seed | demonstrator | GAIL final | GAIL steps to 95% | BC | GAIL s |", "|---|---|---|---|---|---|---|", *rows,
             "", "| demo episodes | demonstrator | GAIL final (mean ± std) | GAIL steps to 95% per seed | BC (mean ± std) |",
             "|---|---|---|---|---|", *summary]  # fmt: skip
    (out / "gail.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
