"""Write scores.csv: the distances both kotoeval and R MatchIt match on (see matchit.R)."""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261122)
treated, controls = 2_000, 20_000
frame = pd.DataFrame(
    {
        "id": np.arange(1, treated + controls + 1),
        "treat": np.r_[np.ones(treated, int), np.zeros(controls, int)],
        "distance": np.r_[rng.normal(0.6, 1, treated), rng.normal(-0.4, 1, controls)].round(9),
        "stratum": rng.integers(1, 6, treated + controls),
    }
)
frame.to_csv(Path(__file__).with_name("scores.csv"), index=False)
