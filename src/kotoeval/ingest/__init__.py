"""Reading deliveries: validation, quarantine, pseudonymisation and the linkage report.

Secure zone. Not built yet: see the issue on ingest.
"""
