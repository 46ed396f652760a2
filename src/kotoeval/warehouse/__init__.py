"""The engine: Ibis connection (DuckDB by default, Spark for scale), table access and atomic writes (secure zone). Not built yet."""
