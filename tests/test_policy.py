import torch
from torch.utils.flop_counter import FlopCounterMode

from swarm.policy import ActorCritic, RandomPlayer, backward_flops, forward_flops


def counted(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def test_forward_flops_match_flop_counter():
    net = ActorCritic(84, 7, [64, 32])
    obs = torch.randn(50, 84)
    expected = forward_flops(net.actor_sizes, 50) + forward_flops(net.critic_sizes, 50)
    assert counted(lambda: (net.actor(obs), net.critic(obs))) == expected
    assert expected == 2 * 50 * (84 * 64 + 64 * 32 + 32 * 7) + 2 * 50 * (84 * 64 + 64 * 32 + 32 * 1)


def test_backward_flops_match_flop_counter():
    net = ActorCritic(84, 7, [64, 32, 16])
    obs = torch.randn(33, 84)
    loss = net.actor(obs).square().sum() + net.critic(obs).sum()
    expected = backward_flops(net.actor_sizes, 33) + backward_flops(net.critic_sizes, 33)
    assert counted(loss.backward) == expected


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
    dist = net.dist(obs, mask)
    assert torch.isfinite(dist.entropy()).all()
    assert (dist.probs[:, [0, 5]] == 0).all()


def test_weights_round_trip():
    a, b = ActorCritic(8, 3, [4]), ActorCritic(8, 3, [4])
    b.load_weights(a.weights())
    obs = torch.randn(5, 8)
    assert torch.equal(a.actor(obs), b.actor(obs))
