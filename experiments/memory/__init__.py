"""The memory benchmark (``python -m experiments.memory.run``) and the RecurrentPPO comparison (``python -m experiments.memory.vs_recurrent_ppo``)."""
