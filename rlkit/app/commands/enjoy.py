"""Watch a trained run act: text frames in the terminal (render mode "ansi"), or a GIF (--record).

  rlkit enjoy runs/rlkit-GridWorld-v0__ppo__default__s0__20250101-120000
  rlkit enjoy RUN --record gridworld.gif --episodes 3

Uses the run's newest agent: its final model.zip, or its newest checkpoint if the run (or an extension of it,
`rlkit resume --steps`) has not finished. Frames keep their colours only where stdout is a terminal.
"""

from __future__ import annotations

import argparse
import re

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""A terminal control sequence (colours, cursor moves), removed from frames when stdout is not a terminal."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN", help="a run directory written by rlkit train, or a policy.pt of `rlkit pretrain bc|diffusion`")
    parser.add_argument("--env", default=None, metavar="ID", help="with a policy.pt: the env to run it on (default: the env of its dataset)")
    parser.add_argument("--episodes", type=int, default=1, metavar="N", help="episodes to play")
    parser.add_argument("--seed", type=int, default=None, metavar="N", help="seed of the first episode (default: the run's eval.seed)")
    parser.add_argument("--record", default=None, metavar="FILE.gif", help="write the frames (render mode rgb_array) to a GIF instead of printing them (default: print)")
    parser.add_argument("--fps", type=float, default=None, help="frames per second of the GIF and of the terminal playback (default: the env's render_fps, else 10)")
    parser.add_argument("--no-delay", action="store_true", help="print terminal frames as fast as possible (default: at --fps)")
    parser.add_argument("--max-steps", type=int, default=10_000, metavar="N", help="stop an episode after this many steps")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of taking the most likely one (default: deterministic)")
    parser.add_argument("--device", default="auto", help="torch device")


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    import numpy as np

    from rlkit.app.commands.evaluate import load_any_agent
    from rlkit.app.env_factory import make_env
    from rlkit.app.evaluation import action_masks, uses_action_masks

    if args.episodes <= 0:
        raise ValueError(f"--episodes must be a positive integer, got {args.episodes}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer (Gymnasium's reset seeds are), got {args.seed}")
    if args.max_steps < 1:
        raise ValueError(f"--max-steps must be a positive integer, got {args.max_steps}")
    if args.fps is not None and not args.fps > 0:
        raise ValueError(f"--fps must be a positive number of frames per second, got {args.fps:g}")
    if args.record is not None and not args.record.lower().endswith(".gif"):
        raise ValueError(f"--record {args.record!r}: expected a file name ending in .gif")
    if args.record is not None:
        from rlkit.atomic_io import check_output_path

        check_output_path(args.record, "--record")  # before the episodes are played, not after
    model, config, path, normalize = load_any_agent(args)
    mode = "rgb_array" if args.record else "ansi"
    probe = make_env(config.env)
    modes = probe.metadata.get("render_modes", [])
    probe.close()
    if mode not in modes:
        alternative = " (try --record out.gif)" if mode == "ansi" and "rgb_array" in modes else ""
        raise ValueError(f"{config.env.id} does not render {mode!r}; its render modes are {modes or 'none'}{alternative}")
    env = make_env(config.env, render_mode=mode)
    fps = args.fps or env.metadata.get("render_fps") or 10
    seed = config.eval.seed if args.seed is None else args.seed
    masked = uses_action_masks(model)
    frames, returns = [], []
    terminal = sys.stdout.isatty()
    clear = "\x1b[H\x1b[2J" if terminal else ""
    try:
        for episode in range(args.episodes):
            obs, info = env.reset(seed=seed + episode)
            state, start, total, done, steps = None, np.ones(1, dtype=bool), 0.0, False, 0
            while True:
                frame = env.render()
                if mode == "ansi":
                    frame = frame if terminal else ANSI_ESCAPE.sub("", str(frame))  # colours only for a terminal
                    print(f"{clear}episode {episode + 1}/{args.episodes}, step {steps}, return {total:.4g}\n{frame}", flush=True)
                    if not args.no_delay:
                        time.sleep(1.0 / fps)
                else:
                    frames.append(np.asarray(frame))
                if done or steps >= args.max_steps:
                    break
                model_obs = normalize.normalize_obs(obs) if normalize is not None and normalize.norm_obs else obs
                kwargs = {"action_masks": action_masks([info])} if masked else {}
                action, state = model.predict(model_obs, state=state, episode_start=start, deterministic=not args.stochastic, **kwargs)
                obs, reward, terminated, truncated, info = env.step(action)
                start = np.zeros(1, dtype=bool)
                total += float(reward)
                steps += 1
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    if args.record:
        import imageio.v3 as iio

        from rlkit.atomic_io import atomic_open

        with atomic_open(args.record, "wb") as handle:
            iio.imwrite(handle, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
        print(f"wrote {len(frames)} frames to {args.record}")
    print(f"{config.algo} on {config.env.id}: returns {', '.join(f'{r:.4g}' for r in returns)}")
    return 0
