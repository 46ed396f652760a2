"""The engine: Ibis connection (DuckDB by default, Spark for scale), tables, atomic writes.

Secure zone. :func:`open_warehouse` opens a DuckDB file or a Parquet dataset folder with either
engine; :class:`Warehouse` reads published tables and swaps new ones in all at once.
"""

from kotoeval.warehouse.engine import ENGINES, Engine, EngineName
from kotoeval.warehouse.store import Warehouse, data_folder, open_warehouse

__all__ = ["ENGINES", "Engine", "EngineName", "Warehouse", "data_folder", "open_warehouse"]
