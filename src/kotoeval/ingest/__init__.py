"""Reading deliveries: validation, quarantine, pseudonymisation and the linkage report.

Secure zone. :func:`kotoeval.ingest.run.ingest` is the entry point; ``delivery`` checks what a
delivery holds, ``stage`` reads it into one shape, ``keys`` and ``pseudonym`` turn identifiers
into pseudonyms, ``validate`` holds the rules as Ibis expressions, ``quarantine`` keeps what was
not loaded and ``reconcile`` what became of every row. See ``docs/ingest.md``.
"""
