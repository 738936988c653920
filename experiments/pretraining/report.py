"""Tables and plots of the pretraining experiments (after run.py): markdown on stdout, PNGs beside this file.

    python experiments/pretraining/report.py runs/pretraining > experiments/pretraining/results.md
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def condition(run: Path) -> str:
    from rlkit.app.run_dir import read_run_config

    policy = read_run_config(run).policy
    if policy.init_policy:
        warmup = f", critic warm-up {policy.critic_warmup_steps:,}" if policy.critic_warmup_steps else ""
        return f"BC init (--init-policy{warmup})"
    if policy.init_encoder:
        kind = "seq" if "pretrain-seq" in policy.init_encoder else "VAE"
        return f"{kind} encoder, {'frozen' if policy.freeze_encoder else 'fine-tuned'}"
    return "from scratch"


def curves(root: Path, tag: str = "eval/mean_reward") -> dict[str, list[tuple[int, np.ndarray, np.ndarray]]]:
    """condition -> [(seed, steps, values of `tag`)]."""
    from rlkit.app.run_dir import read_run_config
    from rlkit.tb import read_scalars

    out: dict[str, list] = {}
    for run in sorted(p for p in root.iterdir() if (p / "config.yaml").is_file()):
        try:
            steps, values = read_scalars(run, [tag])[tag]
        except (FileNotFoundError, KeyError):
            continue
        out.setdefault(condition(run), []).append((read_run_config(run).seed, steps, values))
    return out


def first_step(steps: np.ndarray, values: np.ndarray, threshold: float) -> int | None:
    hit = np.flatnonzero(values >= threshold)
    return int(steps[hit[0]]) if len(hit) else None


def fmt(values: list[float | None], digits: int = 3) -> str:
    shown = [f"{v:.{digits}g}" if isinstance(v, float) else ("—" if v is None else f"{v:,}") for v in values]
    return " / ".join(shown)


def mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.3g} ± {np.std(values):.2g}"


def baseline_returns(env_id: str, names: list[str], episodes: int, seed: int, **kwargs) -> dict[str, float]:
    import gymnasium as gym

    import envs  # noqa: F401
    from envs.baselines import load_baseline, run_episodes

    env = gym.make(env_id, **kwargs)
    return {n: float(run_episodes(env, load_baseline(env_id, n, env), episodes, seed).mean()) for n in names}


def bc_return(policy_path: Path, episodes: int, seed: int) -> float:
    """The cloned policy's own return on the evaluation weeks: a BC-initialised PPO's return at step 0."""
    import gymnasium as gym

    import envs  # noqa: F401
    from envs.baselines import run_episodes
    from rlkit.pretrain.bc import load_bc

    policy = load_bc(policy_path)

    class Act:
        def reset(self, env, obs, info):
            pass

        def act(self, obs, info):
            return policy.predict(obs[None])[0]

    return float(run_episodes(gym.make("rlkit/HVAC-v0"), Act(), episodes, seed).mean())


def plot(root: Path, name: str, title: str, tag: str = "eval/mean_reward") -> None:
    subprocess.run([sys.executable, "-m", "rlkit.app.cli", "curves", str(root), "--png", str(HERE / name), "--title", title, "--tag", tag],
                   check=False, stdout=subprocess.DEVNULL)  # fmt: skip


def table(data: dict, threshold: float | None, threshold_name: str) -> list[str]:
    lines = [f"| condition | seeds | final return (mean ± std) | mean over the curve (± std) | final per seed | best per seed | {threshold_name} per seed |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for cond, runs in sorted(data.items()):
        runs = sorted(runs, key=lambda r: r[0])
        finals = [float(v[-1]) for _, _, v in runs]
        bests = [float(v.max()) for _, _, v in runs]
        hits = [first_step(s, v, threshold) for _, s, v in runs] if threshold is not None else [None] * len(runs)
        areas = [float(v.mean()) for _, _, v in runs]
        lines.append(f"| {cond} | {len(runs)} | {mean_std(finals)} | {mean_std(areas)} | {fmt(finals)} | {fmt(bests)} | {fmt(hits)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    args = parser.parse_args()
    root = args.root

    if (root / "hvac").is_dir():
        data = curves(root / "hvac")
        base = baseline_returns("rlkit/HVAC-v0", ["thermostat", "schedule_thermostat"], 10, 1000)
        bc = sorted((root / "pretrain").glob("pretrain-bc__rlkit-HVAC-v0*/policy.pt"))
        scratch_final = float(np.mean([v[-1] for _, _, v in data.get("from scratch", [])])) if "from scratch" in data else None
        print("### HVAC: PPO from behaviour cloning of the schedule-aware thermostat vs from scratch\n")
        print(f"Evaluation weeks (seeds 1000-1009): schedule_thermostat {base['schedule_thermostat']:.3g}, thermostat {base['thermostat']:.3g}"
              + (f"; the cloned policy itself (= BC-initialised PPO at step 0) {bc_return(bc[-1], 10, 1000):.3g}" if bc else "") + ".\n")  # fmt: skip
        name = f"steps to reach scratch's final mean ({scratch_final:.3g})" if scratch_final is not None else "—"
        print("\n".join(table(data, scratch_final, name)))
        above = base["schedule_thermostat"]
        print("\nSteps at which each run's evaluation return is at or above the thermostat's "
              f"({above:.3g}): " + "; ".join(f"{c}: {fmt([first_step(s, v, above) for _, s, v in sorted(r, key=lambda x: x[0])])}"
                                             for c, r in sorted(data.items())) + "\n")  # fmt: skip
        plot(root / "hvac", "hvac_curves.png", "HVAC: PPO, BC init vs scratch (eval return)")

    if (root / "grid").is_dir():
        print("### GridWorld-Image: PPO with a VAE-pretrained CNN encoder (frozen, fine-tuned) vs from scratch\n")
        print("Optimal return 0.90 (value iteration); 90% of it: 0.81.\n")
        for tag in ("rollout/ep_rew_mean", "eval/mean_reward"):
            print(f"`{tag}`:\n")
            print("\n".join(table(curves(root / "grid", tag), 0.81, "steps to 0.81")))
            print()
        plot(root / "grid", "gridworld_image_curves.png", "GridWorld-Image: PPO + VAE encoder (training episodes)", "rollout/ep_rew_mean")

    if (root / "groundhog").is_dir():
        data = curves(root / "groundhog")
        base = baseline_returns("rlkit/GroundhogDay-Easy-v0", ["fixed", "bayes", "oracle"], 30, 1000, new_task_on_reset=True)
        print("### GroundhogDay-Easy: sequence PPO (GRU) from a `pretrain seq` encoder vs from scratch\n")
        print("Evaluation episodes (seeds 1000-1029): " + ", ".join(f"{k} {v:.3g}" for k, v in base.items()) + ".\n")
        print("\n".join(table(data, base["fixed"], f"steps to fixed ({base['fixed']:.3g})")))
        print()
        plot(root / "groundhog", "groundhog_curves.png", "GroundhogDay-Easy: ppo-seq, seq-pretrained GRU vs scratch")


if __name__ == "__main__":
    main()
