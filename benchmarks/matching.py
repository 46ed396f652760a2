"""Matching benchmark: 100,000 treated against 2,000,000 controls (nearest neighbour, 1:1,
caliper 0.2 SD of the logit, without replacement, largest first). Prints the seconds of the
matching call as JSON (data generation is not timed)."""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from kotoeval.estimate.matching import nearest


def main(treated: int = 100_000, controls: int = 2_000_000) -> None:
    rng = np.random.default_rng(1)
    distance = np.concatenate([rng.normal(0.5, 1, treated), rng.normal(-0.5, 1, controls)])
    is_treated = np.arange(treated + controls) < treated
    start = time.perf_counter()
    m = nearest(distance, is_treated, caliper_sd=0.2)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "pairs": len(m.treated)}))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
