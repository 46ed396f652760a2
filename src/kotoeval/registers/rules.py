"""Names of the validation rules a delivered row can break.

Shared by the synthetic world (which plants faults and lists them in ``defects.json``) and by
ingest (which quarantines rows with the rule they broke), so both speak of the same faults.
"""

from typing import Final

RULES: Final = (
    "hetu_checksum",
    "hetu_sex_mismatch",
    "impossible_date",
    "end_before_start",
    "unknown_code",
    "negative_amount",
    "days_out_of_range",
    "month_out_of_range",
    "duplicate_row",
    "conflicting_duplicate",
    "overlapping_period",
)
