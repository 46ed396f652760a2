"""The input contract as code: register schemas, code lists and reference classifications."""

from kotoeval.registers import codes, hetu, reference
from kotoeval.registers.schema import REGISTERS, Column, ColumnType, Register, register

__all__ = [
    "REGISTERS",
    "Column",
    "ColumnType",
    "Register",
    "codes",
    "hetu",
    "reference",
    "register",
]
