"""swarm: is the best of N interacting agents, each trained on B/N, better than one agent trained on B?"""

# The name on the package index, where `swarm` is another project; the import name and command stay swarm.
DISTRIBUTION = "swarm-testbed"
