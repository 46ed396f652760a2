"""Names of the validation rules a delivered row can break.

Shared by the synthetic world (which plants faults and lists them in ``defects.json``) and by
ingest (which quarantines rows with the rule they broke), so both speak of the same faults.
"""

from typing import Final

PLANTED: Final = (
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
"""The faults the synthetic world plants."""

RULES: Final = (
    *PLANTED,
    "hetu_invalid",
    "missing_value",
    "invalid_value",
    "value_out_of_range",
    "unlinked",
)
"""Every rule ingest applies: the planted ones and those that catch other faults of real data."""

RULE_DESCRIPTIONS: Final = {
    "hetu_checksum": "identity code whose check character is wrong",
    "hetu_sex_mismatch": "sex differs from the one the identity code gives",
    "impossible_date": "a date that does not exist or lies outside 1900–2100",
    "end_before_start": "a period that ends before it starts",
    "unknown_code": "a value outside the column's code list or classification",
    "negative_amount": "a negative amount of euros",
    "days_out_of_range": "compensated days outside 0–31",
    "month_out_of_range": "a month other than 01–12",
    "duplicate_row": "an exact copy of an earlier row (dropped and counted, not loaded)",
    "conflicting_duplicate": "two or more rows with the same key and different values",
    "overlapping_period": "a job-seeker period that starts before the previous one ended",
    "hetu_invalid": "identity code of the wrong form or with an impossible birth date",
    "missing_value": "a required value is empty",
    "invalid_value": "not a number, date or month of the expected form, or a malformed code",
    "value_out_of_range": "a number outside the column's allowed range",
    "unlinked": "the person is not in the population register, which the register requires",
}
