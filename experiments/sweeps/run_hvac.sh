#!/usr/bin/env bash
# Reproduces experiments/sweeps/README.md: the HVAC PPO sweep, best vs default over 5 seeds, and
# the 1- vs 2-worker timing on a fixed set of trials. Run from the repository root; OUT holds everything.
set -euo pipefail
OUT=${OUT:-sweeps/hvac}
S=experiments/sweeps
rlkit sweep --config $S/ppo_hvac.yaml --space $S/ppo_hvac.space.yaml --trials 40 --workers 2 --dir $OUT/sweep
cp $OUT/sweep/best.yaml $S/ppo_hvac.best.yaml
for name in ppo_hvac ppo_hvac.best; do
  rlkit train --config $S/$name.yaml --seeds 0-4 --workers 2 --eval-episodes 10 --logdir $OUT/seeds_$name
done
# The 2nd and 3rd best trials over 5 seeds too (their parameters from the study; see README.md).
python experiments/sweeps/recheck_top.py "$OUT/sweep" "$OUT/recheck"
# Timing: the same 6 trials (the sampler's seeded start-up draws), no pruning, 1 then 2 workers.
for workers in 1 2; do
  /usr/bin/time -f "workers=$workers wall %e s" rlkit sweep --config $S/ppo_hvac.yaml --space $S/ppo_hvac.space.yaml \
    --trials 6 --no-prune --workers $workers --dir $OUT/timing_w$workers
done
