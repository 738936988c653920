"""Each TensorBoard tag is written at most once per step, also where two dumps land on one step: an evaluation
(periodic, or the final one) and the agent's own log dump (SB3's off-policy agents dump every ``log_interval``
episodes, so it falls on an evaluation step when episodes end there)."""

import numpy as np
import pytest

from rlkit.tb import make_logger, read_scalars

OFFPOLICY = "learning_starts: 64, batch_size: 32, buffer_size: 1000, train_freq: 4"
CASES = {
    # GroundhogDay-v0's default 64-step episodes on 2 envs end at steps 128, 256, …; the 4th episode's dump is at
    # 256, an evaluation step: DQN records rollout/exploration_rate every step, between the two dumps.
    "dqn-seq": ["algo=dqn-seq", "env.id=rlkit/GroundhogDay-v0", "policy.encoder=gru", "policy.encoder_kwargs={hidden_size: 8}",
                "policy.net_arch=[16]", f"algo_kwargs={{{OFFPOLICY}, seq_len: 4, burn_in: 2, target_update_interval: 64}}"],
    "dqn": ["algo=dqn", "env.id=rlkit/GroundhogDay-v0", "policy.net_arch=[16]", f"algo_kwargs={{{OFFPOLICY}, target_update_interval: 64}}"],
    # No evaluation at 256 (every 96): the final evaluation's dump at 256 follows the episode dump, with the last
    # update's train/ losses recorded between the two.
    "sac-final": ["algo=sac", "env.id=Pendulum-v1", "env.kwargs={max_episode_steps: 64}", "policy.net_arch=[16]",
                  f"algo_kwargs={{{OFFPOLICY}}}", "eval.every=96"],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_tag_is_written_twice_at_one_step_when_an_evaluation_meets_an_episode_dump(tmp_path, case):
    from rlkit.app.config import load_config
    from rlkit.app.training import train

    config = load_config(overrides=[f"logdir={tmp_path / 'runs'}", "device=cpu", "n_envs=2", "eval.every=128", "eval.episodes=2",
                                    "checkpoint_every=0", "total_steps=256", *CASES[case]])  # fmt: skip
    run = train(config)
    assert run.status == "finished" and run.steps == 256
    curves = read_scalars(run.run_dir)
    assert 256 in curves["eval/mean_reward"][0] and 256 in curves["rollout/ep_rew_mean"][0]  # both dumps happened at 256
    for tag, (steps, _) in curves.items():
        assert np.all(np.diff(steps) > 0), f"{tag}: steps {steps.tolist()} (a step written twice)"


def test_a_second_dump_at_the_same_step_writes_only_the_tags_not_yet_written_there(tmp_path):
    """The first value of a tag at a step is the one kept; a new step writes every tag again."""
    logger = make_logger(tmp_path)
    logger.record("a", 1.0)
    logger.dump(10)
    logger.record("a", 2.0)
    logger.record("b", 3.0)
    logger.dump(10)
    logger.record("a", 4.0)
    logger.dump(12)
    logger.close()
    curves = read_scalars(tmp_path)
    assert curves["a"][0].tolist() == [10, 12] and curves["a"][1].tolist() == [1.0, 4.0]
    assert curves["b"][0].tolist() == [10] and curves["b"][1].tolist() == [3.0]
