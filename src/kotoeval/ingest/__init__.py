"""Reading deliveries: validation, quarantine, pseudonymisation and the linkage report.

Secure zone. Built so far: what a delivery holds and its structural checks
(:mod:`kotoeval.ingest.delivery`), the project key (:mod:`kotoeval.ingest.keys`) and the
pseudonyms (:mod:`kotoeval.ingest.pseudonym`). Row validation, quarantine and the warehouse
come next.
"""
