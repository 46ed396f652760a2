"""The engine: Ibis connection (DuckDB by default, Spark for scale), tables, atomic writes.

Secure zone. Not built yet.
"""
