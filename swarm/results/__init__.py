"""What a run produces and where it lies: `records` types summary.json, `rundir` owns the run directory.

Neither imports torch or Ray, so a run copied to another machine can be read there with pandas alone.
"""
