"""Read run directories into tidy frames and draw them: what the report and the notebooks share.

`load` reads run and sweep directories, `tables` derives the report's tables, `figures` draws. Nothing here
imports torch or Ray, so a run copied to another machine can be analysed there.
"""

from swarm.analysis.figures import (
    plot_crossplay,
    plot_frontier,
    plot_gap_vs_n,
    plot_learning_curves,
    plot_ratings,
    plot_verdict,
    plot_verdict_map,
    plot_winners_curse,
)
from swarm.analysis.load import LADDER, TABLES, Run, arm_of, load_run, load_runs, load_sweep
from swarm.analysis.tables import (
    arm_curves,
    contrasts,
    free_for_all_over_seeds,
    free_for_all_table,
    gain_lines,
    payoff_lines,
    ratings_table,
    roles_table,
    scores,
    settings_table,
    spend_table,
    sweep_cells,
    teamwork_gaps,
    teamwork_table,
    verdict_lines,
    winners_curse,
    yardstick_lines,
)

__all__ = [
    "LADDER",
    "TABLES",
    "Run",
    "arm_curves",
    "arm_of",
    "contrasts",
    "free_for_all_over_seeds",
    "free_for_all_table",
    "gain_lines",
    "load_run",
    "load_runs",
    "load_sweep",
    "payoff_lines",
    "plot_crossplay",
    "plot_frontier",
    "plot_gap_vs_n",
    "plot_learning_curves",
    "plot_ratings",
    "plot_verdict",
    "plot_verdict_map",
    "plot_winners_curse",
    "ratings_table",
    "roles_table",
    "scores",
    "settings_table",
    "spend_table",
    "sweep_cells",
    "teamwork_gaps",
    "teamwork_table",
    "verdict_lines",
    "winners_curse",
    "yardstick_lines",
]
