"""Reading deliveries: validation, quarantine, pseudonymisation and the linkage report.

Secure zone. Built so far: the project key (:mod:`kotoeval.ingest.keys`) and the pseudonyms
(:mod:`kotoeval.ingest.pseudonym`); reading, validation and the warehouse come next.
"""
