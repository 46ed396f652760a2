"""A study spec (TOML, validated) and the pipeline that runs it: cohort → estimate → disclose (secure zone). Not built yet."""
