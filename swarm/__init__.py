"""swarm: is the best of N interacting agents, each trained on B/N, better than one agent trained on B?"""
