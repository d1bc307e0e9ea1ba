"""Sweeps: many runs of one configuration family on Dask, seeds as a dimension, results in SQLite.

    from chainrule import sweep
    results = sweep.run("examples/sweeps/lr.toml", out="sweeps/lr")   # an embedded local cluster
    print(results.table())                                        # configurations, best first
    results.best                                                  # the best config (also best.toml)

- ``spec``: SWEEP.toml read and checked (``load_spec``; the search space in ``space``);
- ``trial``: the pure function a worker runs (a configuration over its seeds, as one seed ensemble
  when it can);
- ``store``: results.sqlite, written by the driver alone, exactly once per (configuration, seed);
- ``cluster``: a local Dask cluster, or an existing one by address;
- ``driver``: the search (grid, or Optuna's ask-and-tell) and the loop; ``report``: ranking,
  best.toml, the table and the export.

Needs the extra: pip install "chainrule[sweep]" (Dask distributed and Optuna, imported lazily).
"""

from .driver import Results, open_results, run
from .spec import Spec, load_spec, parse_spec
from .trial import run_trial

__all__ = ["Results", "Spec", "load_spec", "open_results", "parse_spec", "run", "run_trial"]
