"""Fill experiments/README.md's results section from a `run_all.py` output directory (one command).

  python experiments/write_readme.py results/exp        # DIR holding results.md and curves.png

Copies ``results.md``, ``curves.md`` and ``curves.png`` into ``experiments/results/`` and replaces
the text between the README's ``<!-- results:start -->`` and ``<!-- results:end -->`` markers with
the table and the plot. Run it again after a new sweep; nothing else in the README changes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

EXPERIMENTS_DIR = Path(__file__).resolve().parent
README = EXPERIMENTS_DIR / "README.md"
RESULTS_DIR = EXPERIMENTS_DIR / "results"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def results_section(results_md: str) -> str:
    return (
        f"{START}\n\n{results_md.strip()}\n\n"
        "![eval/mean_reward of every experiment, mean ± std over seeds, with baselines and the expected score]"
        "(results/curves.png)\n\n"
        "Per-run final and best returns: [results/curves.md](results/curves.md).\n\n"
        f"{END}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", help="the --out directory of experiments/run_all.py")
    args = parser.parse_args(argv)
    source = Path(args.dir)
    missing = [name for name in ("results.md", "curves.png") if not (source / name).is_file()]
    if missing:
        raise SystemExit(f"write_readme: {source} has no {', '.join(missing)}; pass the --out DIR of experiments/run_all.py")
    text = README.read_text()
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise SystemExit(f"write_readme: {README} must hold one {START} … {END} pair")
    RESULTS_DIR.mkdir(exist_ok=True)
    for name in ("results.md", "curves.md", "curves.png"):
        if (source / name).is_file():
            shutil.copyfile(source / name, RESULTS_DIR / name)
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + results_section((source / "results.md").read_text()) + tail)
    print(f"updated {README} and {RESULTS_DIR}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
