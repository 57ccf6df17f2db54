import numpy as np
import pytest
import torch

from swarm.config import PPO
from swarm.envs import EnvSpec, Games
from swarm.players import RandomPlayer
from swarm.players.network import ActorCritic
from swarm.training import ppo, rollout
from swarm.training.adam import Adam

SHAPE = EnvSpec("gae", obs_dim=1, actions=2)  # the shape of GAE's batches: only their rewards count


def test_gae_hand_computed():
    # Two games interleaved: transitions 0 -> 2 (game ends, reward 1) and 1 -> 3 (cut, bootstrap 0.5).
    batch = rollout.Batch.empty(4, SHAPE)
    batch.value[:] = [0.1, 0.2, 0.3, 0.4]
    batch.reward[:] = [0.0, 0.5, 1.0, 0.0]
    batch.done[:] = [False, False, True, False]
    batch.next_index[:] = [2, 3, -1, -1]
    batch.bootstrap[3] = 0.5
    advantages, returns = ppo.gae(batch, gamma=0.9, lam=0.8)
    adv2 = 1.0 - 0.3
    adv3 = 0.9 * 0.5 - 0.4
    adv0 = (0.9 * 0.3 - 0.1) + 0.9 * 0.8 * adv2
    adv1 = (0.5 + 0.9 * 0.4 - 0.2) + 0.9 * 0.8 * adv3
    assert advantages == pytest.approx([adv0, adv1, adv2, adv3], abs=1e-6)
    assert returns == pytest.approx(advantages + batch.value, abs=1e-6)


def reference_gae(batch, gamma, lam):
    """GAE as a plain loop over the batch in reverse: what the vectorized version must equal."""
    n = len(batch.reward)
    advantages = np.zeros(n, np.float32)
    for i in range(n - 1, -1, -1):  # successors always come later in the batch
        nxt = batch.next_index[i]
        if batch.done[i]:
            next_value, next_advantage = 0.0, 0.0
        elif nxt >= 0:
            next_value, next_advantage = batch.value[nxt], advantages[nxt]
        else:
            next_value, next_advantage = batch.bootstrap[i], 0.0
        delta = batch.reward[i] + gamma * next_value - batch.value[i]
        advantages[i] = delta + gamma * lam * next_advantage
    return advantages, advantages + batch.value


def random_batch(rng, size, slots):
    """Transitions of `slots` interleaved game slots; in each, games end (done) and restart, and the last
    game is done or cut."""
    batch = rollout.Batch.empty(size, SHAPE)
    slot = rng.integers(slots, size=size)
    for s in range(slots):
        chain = np.flatnonzero(slot == s)
        ends = rng.random(len(chain)) < 0.15
        ends[-1:] |= rng.random() < 0.5
        batch.done[chain] = ends
        link = ~ends[:-1]
        batch.next_index[chain[:-1][link]] = chain[1:][link]
    batch.value[:] = rng.normal(size=size)
    batch.reward[:] = np.where(
        batch.done, rng.choice([-1.0, 0.0, 1.0], size=size), rng.normal(size=size) * 0.1
    )
    cut = ~batch.done & (batch.next_index < 0)
    batch.bootstrap[cut] = rng.normal(size=cut.sum())
    return batch


@pytest.mark.parametrize("seed", range(20))
def test_gae_equals_a_plain_loop_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    batch = random_batch(rng, int(rng.integers(1, 3000)), int(rng.integers(1, 64)))
    gamma, lam = rng.uniform(0.9, 1.0), rng.uniform(0.0, 1.0)
    for got, expected in zip(ppo.gae(batch, gamma, lam), reference_gae(batch, gamma, lam), strict=True):
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_array_equal(got, expected)


def collect(spec, net, generator, target=512):
    rng = np.random.default_rng(0)
    batch, stats = rollout.Slots(Games(spec, 16), target).collect(
        net,
        [RandomPlayer()],
        np.zeros(16, np.int64),
        target,
        generator,
        lambda k: rng.integers(1 << 30, size=k),
    )
    return batch, stats


def test_update_improves_its_objective_on_a_fixed_batch(spec, generator):
    torch.manual_seed(0)
    net = ActorCritic(spec.obs_dim, spec.actions, [64])
    batch, _ = collect(spec, net, generator)
    advantages, returns = ppo.gae(batch, 0.99, 0.95)
    obs, mask, actions = (torch.from_numpy(x) for x in (batch.obs, batch.mask, batch.action))
    adv, ret, old_logp = torch.from_numpy(advantages), torch.from_numpy(returns), torch.from_numpy(batch.logp)

    def losses():
        with torch.no_grad():
            logp = net.outputs(obs, mask).log_softmax(-1).gather(-1, actions[:, None]).squeeze(-1)
            ratio = (logp - old_logp).exp()
            return float(-(adv * ratio).mean()), float((net.value(obs) - ret).pow(2).mean())

    policy_before, value_before = losses()
    optimizer = Adam(net.parameters(), lr=1e-3, eps=1e-8)
    metrics = ppo.update(net, optimizer, batch, PPO(rollout_steps=512, epochs=4, minibatches=4), generator)
    policy_after, value_after = losses()
    assert policy_after < policy_before
    assert value_after < value_before
    assert metrics["approx_kl"] >= 0 and 0 <= metrics["clip_fraction"] <= 1


def test_update_flops_match_flop_counter(spec, generator, flops_of):
    net = ActorCritic(spec.obs_dim, spec.actions, [32, 16])
    batch, _ = collect(spec, net, generator, target=300)
    optimizer = Adam(net.parameters(), lr=1e-3, eps=1e-8)
    metrics = {}
    total = flops_of(
        lambda: metrics.update(ppo.update(net, optimizer, batch, PPO(rollout_steps=300), generator))
    )
    assert metrics["update_flops"] == total


def test_a_bfloat16_update_keeps_float32_weights_and_steps_as_float32_does(spec, generator):
    """Autocast runs the forwards in bfloat16 (8 bits of mantissa), so one update moves the weights about
    as float32's does, not to the bit; weights, Adam state and losses stay float32; the FLOPs are the same."""
    torch.manual_seed(0)
    start = ActorCritic(spec.obs_dim, spec.actions, [64])
    batch, _ = collect(spec, start, generator)
    moved, flops = {}, {}
    for precision in ("float32", "bfloat16"):
        net = ActorCritic.from_weights(start.weights())
        optimizer = Adam(net.parameters(), lr=1e-3, eps=1e-8)
        cfg = PPO(rollout_steps=512, epochs=2, minibatches=2, precision=precision)
        metrics = ppo.update(net, optimizer, batch, cfg, torch.Generator().manual_seed(1))
        assert all(p.dtype == torch.float32 for p in net.parameters()) and np.isfinite(metrics["policy_loss"])
        pairs = zip(net.parameters(), start.parameters(), strict=True)
        moved[precision] = torch.cat([(p - q).flatten() for p, q in pairs])
        flops[precision] = metrics["update_flops"]
    assert flops["float32"] == flops["bfloat16"]
    cosine = torch.nn.functional.cosine_similarity(moved["float32"], moved["bfloat16"], dim=0)
    assert 0.9 < cosine < 1 and not torch.equal(moved["float32"], moved["bfloat16"])
