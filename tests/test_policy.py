import pytest
import torch

from swarm.players import RandomPlayer
from swarm.players.network import (
    ActorCritic,
    Tanh,
    backward_flops,
    entropy,
    forward_flops,
    sample,
)


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
    logp = net.logits(obs, mask).log_softmax(-1)
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
    assert torch.equal(rebuilt.logits(obs, mask), net.logits(obs, mask))
    assert torch.equal(rebuilt.value(obs), net.value(obs))
