"""Reading deliveries, validation, quarantine, pseudonymisation and the linkage report (secure zone). Not built yet."""
