import pytest
import torch

from swarm.envs import Box
from swarm.players import RandomPlayer
from swarm.players.network import (
    ActorCritic,
    Tanh,
    backward_flops,
    entropy,
    forward_flops,
    sample,
)

BOX = Box(low=(0.0, -1.0, -2.0), high=(1.0, 1.0, 0.5))


def test_forward_flops_match_flop_counter(flops_of):
    net = ActorCritic(84, 7, [64, 32])
    obs = torch.randn(50, 84)
    expected = forward_flops(net.actor_sizes, 50) + forward_flops(net.critic_sizes, 50)
    assert flops_of(lambda: (net.actor(obs), net.critic(obs))) == expected
    assert expected == 2 * 50 * (84 * 64 + 64 * 32 + 32 * 7) + 2 * 50 * (84 * 64 + 64 * 32 + 32 * 1)


def test_backward_flops_match_flop_counter(flops_of):
    net = ActorCritic(84, 7, [64, 32, 16])
    obs = torch.randn(33, 84)
    loss = net.actor(obs).square().sum() + net.critic(obs).sum()
    expected = backward_flops(net.actor_sizes, 33) + backward_flops(net.critic_sizes, 33)
    assert flops_of(loss.backward) == expected


def test_masked_policy_never_picks_an_illegal_move(generator):
    net = ActorCritic(10, 6, [16])
    with torch.no_grad():
        net.actor[-1].bias.copy_(torch.tensor([1e4, 0, 0, 0, 0, 1e4]))  # illegal moves made most attractive
    obs = torch.randn(4000, 10)
    mask = torch.rand(4000, 6) < 0.5
    mask[torch.arange(4000), torch.randint(1, 5, (4000,))] = True  # at least one legal move
    mask[:, [0, 5]] = False
    for player in (net, RandomPlayer()):
        actions = player.act(obs, mask, generator)
        assert mask[torch.arange(4000), actions].all()
    logp = net.outputs(obs, mask).log_softmax(-1)
    assert torch.isfinite(entropy(logp)).all()
    assert (logp.exp()[:, [0, 5]] == 0).all()


def test_sample_draws_from_the_softmax(generator):
    logits = torch.tensor([0.0, 1.0, 2.0, torch.finfo(torch.float32).min]).expand(200_000, 4)
    frequencies = torch.bincount(sample(logits, generator), minlength=4) / 200_000
    expected = torch.softmax(logits[0], -1)
    assert frequencies[3] == 0
    assert torch.allclose(frequencies, expected, atol=0.005)  # 5 standard errors at most


def test_tanh_is_tanh():
    x = torch.linspace(-20, 20, 10_001, requires_grad=True)
    y = Tanh()(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert torch.allclose(y, torch.tanh(x), atol=3e-7, rtol=0)
    assert torch.allclose(grad, 1 - torch.tanh(x).square(), atol=1e-6, rtol=0)
    with torch.inference_mode():  # the rollouts' path, without autograd
        assert torch.equal(Tanh()(x), y.detach())


def test_weights_round_trip():
    a, b = ActorCritic(8, 3, [4]), ActorCritic(8, 3, [4])
    b.load_weights(a.weights())
    obs = torch.randn(5, 8)
    assert torch.equal(a.actor(obs), b.actor(obs))


@pytest.mark.parametrize("hidden", [[48], [64, 16], [8, 8, 8]])
def test_a_network_is_rebuilt_from_its_weights_alone(hidden):
    """Arms may differ in width and depth: a player built from weights alone acts as the network did."""
    torch.manual_seed(0)
    net = ActorCritic(42, 7, hidden)
    rebuilt = ActorCritic.from_weights(net.weights())
    assert rebuilt.actor_sizes == [42, *hidden, 7] and rebuilt.critic_sizes == [42, *hidden, 1]
    obs, mask = torch.randn(5, 42), torch.ones(5, 7, dtype=torch.bool)
    assert torch.equal(rebuilt.outputs(obs, mask), net.outputs(obs, mask))
    assert torch.equal(rebuilt.value(obs), net.value(obs))


def gaussian(seed=0, hidden=(16,)):
    """A Gaussian actor-critic over BOX, its log-std moved off 0 so that every dimension's differs."""
    torch.manual_seed(seed)
    net = ActorCritic(10, 3, list(hidden), BOX)
    with torch.no_grad():
        net.head.log_std.copy_(torch.tensor([-0.5, 0.0, 0.7]))
    return net


def test_a_fresh_gaussian_acts_about_the_box_centre_at_its_initial_log_std():
    torch.manual_seed(0)
    net = ActorCritic(10, 3, [16], BOX, log_std=-1.0)
    assert torch.equal(net.head.log_std.detach(), torch.full((3,), -1.0))
    assert torch.equal(net.actor[-1].bias.detach(), torch.zeros(3))
    rows = net.actor[-1].weight.detach()  # orthogonal rows of norm 0.01 (gain 0.01)
    assert torch.allclose(rows @ rows.T, 1e-4 * torch.eye(3), atol=1e-9)
    mean = net.outputs(torch.randn(200, 10) * 3, torch.ones(200, 0, dtype=torch.bool))
    assert mean.abs().max() < 0.05  # |hidden| <= 4 (tanh), so |mean| <= 0.04: the Box's centre everywhere
    assert torch.allclose(net.head.to_env(torch.zeros(3)), torch.tensor([0.5, 0.0, -0.75]))


def test_gaussian_log_probabilities_and_entropy_are_torch_distributions(generator):
    net = gaussian()
    obs, none = torch.randn(500, 10), torch.ones(500, 0, dtype=torch.bool)
    action, logp = net.draw(obs, none, generator)
    mean = net.outputs(obs, none)
    normal = torch.distributions.Normal(mean, net.head.log_std.exp())
    got_logp, got_entropy = net.head.evaluate(mean, action)
    assert torch.allclose(logp, normal.log_prob(action).sum(-1), atol=1e-6, rtol=0)
    assert torch.allclose(got_logp, normal.log_prob(action).sum(-1), atol=1e-6, rtol=0)
    assert torch.allclose(got_entropy, normal.entropy().sum(-1), atol=1e-6, rtol=0)
    assert got_entropy.shape == (500,)


def test_gaussian_samples_are_reproducible_and_clipped_into_the_box():
    net = gaussian()
    obs, none = torch.randn(4000, 10), torch.ones(4000, 0, dtype=torch.bool)
    first, again = (net.draw(obs, none, torch.Generator().manual_seed(3))[0] for _ in range(2))
    other = net.draw(obs, none, torch.Generator().manual_seed(4))[0]
    assert torch.equal(first, again) and not torch.equal(first, other)
    low, high = torch.tensor(BOX.low), torch.tensor(BOX.high)
    assert (first.abs() > 1).any()  # std 2 in the last dimension: samples leave [-1, 1]
    for player in (net, RandomPlayer(BOX)):
        moves = player.act(obs, none, torch.Generator().manual_seed(3))
        assert moves.shape == (4000, 3) and ((low <= moves) & (moves <= high)).all()
    # [-1, 1] onto the Box: its edges onto the Box's, 0 onto its centre
    expected = low + (high - low) * (first.clamp(-1, 1) + 1) / 2
    assert torch.equal(net.act(obs, none, torch.Generator().manual_seed(3)), expected)
    edges = net.head.to_env(torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))
    assert torch.allclose(edges, torch.stack([low, high, (low + high) / 2]))


def test_random_player_is_uniform_in_the_box(generator):
    moves = RandomPlayer(BOX).act(
        torch.zeros(100_000, 10), torch.ones(100_000, 0, dtype=torch.bool), generator
    )
    low, high = torch.tensor(BOX.low), torch.tensor(BOX.high)
    assert torch.allclose(moves.mean(0), (low + high) / 2, atol=0.01)  # 5 standard errors at most
    assert torch.allclose(moves.var(0), (high - low) ** 2 / 12, atol=0.01)


def test_a_gaussian_network_is_rebuilt_from_its_weights_alone():
    net = gaussian(hidden=(8, 8))
    rebuilt = ActorCritic.from_weights(net.weights())
    assert rebuilt.actor_sizes == [10, 8, 8, 3] and isinstance(rebuilt.head, type(net.head))
    assert torch.equal(rebuilt.head.log_std, net.head.log_std)
    obs, none = torch.randn(50, 10), torch.ones(50, 0, dtype=torch.bool)
    moves = [player.act(obs, none, torch.Generator().manual_seed(1)) for player in (net, rebuilt)]
    assert torch.equal(*moves)


def test_gaussian_flops_match_flop_counter(flops_of):
    """The head's noise, density and log-std are elementwise, counted 0 as torch's counter counts them:
    forward and backward cost the actor's and critic's layers alone."""
    net = gaussian(hidden=(64, 32))
    obs, none = torch.randn(40, 10), torch.ones(40, 0, dtype=torch.bool)
    action = net.act(obs, none, torch.Generator().manual_seed(0))
    out = {}

    def forward():
        mean = net.outputs(obs, none)
        logp, each = net.head.evaluate(mean, action)
        out["loss"] = -logp.mean() - each.mean() + net.value(obs).square().mean()

    expected = forward_flops(net.actor_sizes, 40) + forward_flops(net.critic_sizes, 40)
    assert flops_of(forward) == expected
    assert flops_of(out["loss"].backward) == backward_flops(net.actor_sizes, 40) + backward_flops(
        net.critic_sizes, 40
    )
    assert net.head.log_std.grad is not None and (net.head.log_std.grad != 0).all()
