"""The learner registry: chosen by name in the budget file, refused with the fix when unknown."""

import pytest

from swarm import config
from swarm.training.adam import Adam
from swarm.training.agent import Agent
from swarm.training.learners import LEARNERS


def test_an_unknown_learner_is_refused_naming_the_known_ones(make_config):
    with pytest.raises(config.ConfigError, match=r"learner: .*unknown learner 'dqn'; pick one of ppo"):
        config.parse(make_config(learner="dqn"))


def test_an_agent_steps_the_optimizer_its_learner_makes(spec, make_config):
    cfg = config.parse(make_config())
    agent = Agent(spec, cfg, 0, 0)
    assert agent.learner is LEARNERS["ppo"]
    assert isinstance(agent.optimizer, Adam)
    (group,) = agent.optimizer.param_groups
    assert (group["lr"], group["eps"], group["fused"]) == (cfg.ppo.lr, 1e-5, True)
    assert [id(p) for p in agent.optimizer.params] == [id(p) for p in agent.net.parameters()]
