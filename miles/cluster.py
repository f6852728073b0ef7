"""Joining a Ray cluster, or starting one on this machine, once per process. Any layer may use it: it
imports no Miles code.

    start_ray("auto")            # a running cluster (``ray start --head`` or a managed one)
    start_ray(None, gpus=1)      # a local one: every core, and the GPUs the encoder asked for

Ray's logs stay at warnings and off the driver's terminal: Miles logs its own progress. Starting Ray
forks and at once execs its daemons, which is safe, so Lance's and LanceDB's warnings about forking a
process that has them loaded are left out.
"""

from __future__ import annotations

import logging
import math
import os
import warnings


def start_ray(address: str | None = None, gpus: float = 0.0) -> None:
    """Connect to ``address`` (``auto``: the cluster this machine belongs to), or start a local Ray."""
    import ray

    if ray.is_initialized():
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*\bfork")
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, num_gpus=math.ceil(gpus) if gpus else None,
                     include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
