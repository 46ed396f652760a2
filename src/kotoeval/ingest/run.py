"""One ingest: a delivery in, a warehouse of pseudonymised, linked, reconciled tables out.

Per register, in contract order (population first, since linkage needs it): stage the files,
pseudonymise the codes not seen before, apply the row rules, the cross-row rules and linkage,
and write the loaded rows and the quarantined ones as pending tables. Only when every register
has been processed are the pending tables published, all at once.

What the warehouse holds afterwards:

- one table per register, ``hetu`` replaced by ``pid`` (employer and family identifiers by
  their own pseudonyms);
- ``persons``: pid, birth year and month and sex from the identity code;
- ``quarantine``: every row not loaded, with file, row, rule, column, the offending value and
  the row as text, identity codes replaced by pseudonyms;
- ``loads``: one row per register per ingest: fingerprint of its files and the reconciliation
  ``rows_in = loaded + quarantined + duplicates``;
- ``meta``: a check value of the key, so another key cannot be mixed into the warehouse.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from kotoeval import __version__
from kotoeval.errors import DeliveryError, KeyFileError
from kotoeval.ingest.cross_row import PLACE, cross_row_rejections, rejected_rows, with_key_hash
from kotoeval.ingest.delivery import Source, fingerprint, open_delivery
from kotoeval.ingest.keys import Purpose, derived_key, key_check, load_key
from kotoeval.ingest.pseudonym import identifier_map, person_map
from kotoeval.ingest.quarantine import quarantine_rows
from kotoeval.ingest.reconcile import LOADS, IngestReport, RegisterLoad, load_row
from kotoeval.ingest.stage import stage_files, staged_table, unstage
from kotoeval.ingest.validate import checked_rows, person_codes, value_checks
from kotoeval.registers import REGISTERS, Register
from kotoeval.warehouse import EngineName, Warehouse, open_warehouse

log = logging.getLogger("kotoeval.ingest")
Progress = Callable[[str, str], None]
#: Distinct identifiers pseudonymised (and added to the engine's map) at a time.
_CODE_BATCH = 500_000


def ingest(
    source: Path,
    warehouse: Path,
    key_file: Path,
    engine: EngineName = "duckdb",
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Validate, pseudonymise and link every register in ``source`` into ``warehouse``.

    Structural faults raise :class:`~kotoeval.errors.DeliveryError` before the warehouse is
    touched; whatever happens, the warehouse is either the previous one or the new one whole.
    """
    started = time.perf_counter()
    sources = open_delivery(source)
    key = load_key(key_file)
    notify = progress or (lambda register, step: None)
    handler = _log_file(warehouse)
    try:
        log.info("ingest of %s into %s on %s", source, warehouse, engine)
        wh = open_warehouse(warehouse, engine, memory_limit, writer=True)
        try:
            _check_key(wh, key)
            run = _Run(wh, key, notify)
            ordered = sorted(sources.values(), key=lambda s: list(REGISTERS).index(s.register.name))
            loads = run.load_all(ordered)
            run.finish(loads)
            published = wh.publish()
            log.info("published %s", ", ".join(published))
        finally:
            wh.close()
    except Exception as error:
        # Messages of kotoeval's errors name files, columns and lines, never a value.
        log.error("ingest failed, the warehouse is as it was: %s", error)
        raise
    finally:
        log.removeHandler(handler)
        handler.close()
    return IngestReport(warehouse, engine, loads, time.perf_counter() - started)


def log_path(warehouse: Path) -> Path:
    """Where the ingest log of a warehouse is kept: beside it."""
    return warehouse.parent / f"{warehouse.name}.ingest.log"


def _log_file(warehouse: Path) -> logging.Handler:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path(warehouse), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _check_key(wh: Warehouse, key: bytes) -> None:
    check = key_check(key)
    if wh.has("meta"):
        stored = dict(wh.table("meta").to_pyarrow().to_pylist()[0])
        if stored["key_check"] != check:
            raise KeyFileError(
                f"{wh.path} was built with another key; its pseudonyms could not be linked with "
                "this delivery's. Use the warehouse's own key, or a new warehouse."
            )
        return
    wh.write(
        "meta",
        ibis.memtable(
            {
                "key_check": [check],
                "created_at": [datetime.now(UTC).isoformat(timespec="seconds")],
                "created_by": [f"kotoeval {__version__}"],
            }
        ),
    )


class _Run:
    """State shared by the registers of one ingest: the pseudonym maps and the population."""

    def __init__(self, wh: Warehouse, key: bytes, notify: Progress) -> None:
        self.wh = wh
        self.engine = wh.engine
        self.keys: dict[str, bytes] = {p: derived_key(key, p) for p in PURPOSES}
        self.notify = notify
        self.maps: dict[str, ir.Table] = {
            p: self.engine.append_arrow(f"map_{p}", _map(p, self.keys[p], [], 0)) for p in PURPOSES
        }
        self.sizes: dict[str, int] = dict.fromkeys(PURPOSES, 0)
        self.residents: ir.Table | None = None
        if wh.has("population"):
            published = wh.table("population").select("pid").distinct()
            self.residents = published  # pids; turned into keys once the map is known
        self.quarantine: list[ir.Table] = []

    def load_all(self, sources: list[Source]) -> list[RegisterLoad]:
        """Load ``sources`` in order while the registers after each one are staged.

        Staging (Arrow parsing and writing text) and fingerprinting (a second a gigabyte) run
        in threads of their own, register after register, from the start: they fill the time
        the engine leaves a core idle, and each holds no more than a few blocks of a file in
        memory. A failure stops them.
        """
        cancelled = threading.Event()
        loads: list[RegisterLoad] = []
        with (
            ThreadPoolExecutor(1, thread_name_prefix="kotoeval-stage") as stager,
            ThreadPoolExecutor(1, thread_name_prefix="kotoeval-fingerprint") as hasher,
        ):
            scratch = self.engine.scratch
            copies = [stager.submit(stage_files, scratch, s, cancelled) for s in sources]
            prints = [hasher.submit(fingerprint, s.files) for s in sources]
            try:
                for source, copied, fingerprinted in zip(sources, copies, prints, strict=True):
                    self.notify(source.register.name, "reading")
                    copied.result()
                    loads.append(self.load(source, fingerprinted))
            except BaseException:
                cancelled.set()  # the register being staged stops at its next block
                for waiting in copies + prints:
                    waiting.cancel()
                raise
        return loads

    def load(self, source: Source, fingerprinted: Future[str]) -> RegisterLoad:
        """Check, pseudonymise and link one staged register; write its loaded rows."""
        reg = source.register
        name = reg.name
        staged = staged_table(self.engine, source)
        rows_in = int(staged.count().to_pyarrow().as_py())
        log.info("%s: %d rows from %s", name, rows_in, ", ".join(f.name for f in source.files))
        if source.extra_columns:
            log.info("%s: columns outside the contract left out: %s", name, source.extra_columns)
        self.notify(name, "pseudonymising")
        links = {
            c.name: self._links(name, c.name, c.pseudonym, staged)
            for c in reg.columns
            if c.pseudonym is not None
        }
        self.notify(name, "validating")
        values = value_checks(self.engine, reg, staged, source.decimal)
        every = checked_rows(reg, staged, links, values, source.decimal)
        # The rules are applied to every row once, and the result is kept whole (keys in place
        # of identifiers, values typed, the first rule broken): the later steps (cross-row
        # rules, the rows to load, the rows to quarantine) read it, not the delivered text.
        rows = self.engine.materialise(f"checked_{name}", with_key_hash(reg, every.rows))
        unstage(self.engine, source)
        failed = rows.filter(rows._check.notnull())
        rule, column = every.rule_and_column(failed._check)
        rejected = ibis.union(
            failed.select("_part", "_row", _rule=rule, _column=column),
            cross_row_rejections(self.engine, reg, rows),
        )
        valid = rows.filter(rows._check.isnull())
        if name == "population":
            # Everyone with a valid identity code in the population register is a resident,
            # whether or not their row passed the other rules.
            bad_code = [i for i, (_, column) in enumerate(every.labels) if column == "hetu"]
            residents = rows.filter(~rows._check.isin(bad_code).fill_null(False))
            self.residents = self.engine.materialise(
                "residents", residents.select("pkey").distinct()
            )
        elif reg.requires_resident:
            rejected = ibis.union(rejected, self._unlinked(reg, valid, rejected))
        rejected = self.engine.materialise(f"rejected_{name}", rejected)
        self.notify(name, "writing")
        # Pseudonyms joined before the rejected rows are taken out: the engine then builds its
        # hash tables on the maps, not on the register (DuckDB misjudged the size of the rows
        # left by the anti-join and took twice as long).
        loaded = self._pseudonyms(reg, valid).anti_join(rejected, PLACE)
        self.wh.write(name, self._output(reg, loaded))
        quarantined = self.engine.materialise(
            f"quarantine_{name}",
            quarantine_rows(
                reg, self._pseudonyms(reg, rows.semi_join(rejected, PLACE)), rejected, source
            ),
        )
        self.quarantine.append(quarantined)
        by_rule = {
            row["rule"]: int(row["n"])
            for row in rejected.group_by(rule=rejected._rule)
            .agg(n=ibis._.count())
            .to_pyarrow()
            .to_pylist()
        }
        loaded_rows, persons, linked = self._counted(valid.anti_join(rejected, PLACE))
        for scratch in ("checked", "suspects", "rejected"):
            self.engine.drop(f"{scratch}_{name}")
        duplicates = by_rule.get("duplicate_row", 0)
        load = RegisterLoad(
            register=name,
            files=[f.name for f in source.files],
            fingerprint=fingerprinted.result(),
            rows_in=rows_in,
            loaded=loaded_rows,
            quarantined=sum(by_rule.values()) - duplicates,
            duplicates=duplicates,
            extra_columns=list(source.extra_columns),
            persons=persons,
            linked=linked,
            orphan_rows=by_rule.get("unlinked", 0),
            by_rule=by_rule,
        )
        log.info(
            "%s: %d in = %d loaded + %d quarantined + %d duplicates; %s",
            name, rows_in, load.loaded, load.quarantined, duplicates, by_rule,
        )  # fmt: skip
        self.notify(name, "done")
        return load

    def _links(self, register: str, column: str, purpose: str, staged: ir.Table) -> ir.Table:
        """Distinct delivered values of ``column`` → their key and pseudonym (map of ``purpose``).

        Values not met before in this run are pseudonymised (in Python: the key never enters
        the engine) and added to the map.
        """
        raw = self.engine.materialise(
            f"values_{register}_{column}",
            staged.select(raw=staged[column]).filter(ibis._.raw.notnull()).distinct(),
        )
        coded = (
            person_codes(self.engine, raw, f"{register}_{column}")
            if purpose == "person"
            else raw.mutate(code=raw.raw)
        )
        new = coded.select("code").filter(ibis._.code.notnull()).distinct()
        new = new.anti_join(self.maps[purpose], "code")
        # Fetched whole first: adding to the map (same connection) would end a stream of them.
        fresh = new.to_pyarrow().column("code")
        for start in range(0, len(fresh), _CODE_BATCH):
            codes = fresh.slice(start, _CODE_BATCH).to_pylist()
            table = _map(purpose, self.keys[purpose], codes, self.sizes[purpose])
            self.sizes[purpose] += len(codes)
            self.maps[purpose] = self.engine.append_arrow(f"map_{purpose}", table)
        mapped = self.maps[purpose]
        wanted = ["pkey", "problem", "sex"] if purpose == "person" else ["pkey"]
        links = coded.left_join(mapped, "code").select("raw", *wanted)
        return self.engine.materialise(f"links_{register}_{column}", links)

    def _unlinked(self, reg: Register, valid: ir.Table, rejected: ir.Table) -> ir.Table:
        """Rows of persons who are not in the population register."""
        residents = self._resident_keys(reg.name)
        orphans = valid.anti_join(rejected, PLACE).anti_join(residents, "pkey")
        return rejected_rows(orphans, "unlinked", "hetu")

    def _resident_keys(self, register: str) -> ir.Table:
        if self.residents is None:
            raise DeliveryError(
                f"{register} can only be linked to the population register, which is neither in "
                "this delivery nor in the warehouse; deliver population with it"
            )
        if "pkey" not in self.residents.columns:  # published pids of an earlier delivery
            person = self.maps["person"]
            self.residents = self.engine.materialise(
                "residents", person.semi_join(self.residents, "pid").select("pkey")
            )
        return self.residents

    def _counted(self, loaded: ir.Table) -> tuple[int, int, int | None]:
        """Rows and persons loaded, and how many of the persons are residents.

        The rows are counted, not inferred, so that the reconciliation is a real check.
        """
        # One pass over the rows: their count per person, then the persons' totals.
        persons = loaded.group_by("pkey").agg(_rows=ibis._.count())
        totals = {"rows": persons._rows.sum(), "persons": persons.count()}
        if self.residents is not None:
            residents = self._resident_keys("population")
            totals["linked"] = persons.pkey.isin(residents.pkey).sum()
        row = persons.aggregate(**totals).to_pyarrow().to_pylist()[0]
        linked = None if self.residents is None else int(row["linked"] or 0)
        return int(row["rows"] or 0), int(row["persons"]), linked

    def _pseudonyms(self, reg: Register, rows: ir.Table) -> ir.Table:
        """Checked ``rows`` with the pseudonyms of their keys.

        ``pid`` of the person and ``_<column>_pid`` of each employer or family identifier, null
        where the key is null.
        """
        for c in reg.columns:
            if c.pseudonym is None:
                continue
            known = self.maps[c.pseudonym]
            key, pid = ("pkey", "pid") if c.pseudonym == "person" else (c.name, f"_{c.name}_pid")
            right = known.select(_k=known.pkey, **{pid: known.pid})
            rows = rows.left_join(right, rows[key] == right._k).drop("_k")
        return rows

    def _output(self, reg: Register, loaded: ir.Table) -> ir.Table:
        """Loaded rows as stored: pseudonyms in place of identifiers, contract types."""
        columns: dict[str, ir.Value] = {"pid": loaded.pid}
        for c in reg.columns:
            if c.pseudonym is None:
                columns[c.name] = loaded[c.name]
            elif c.pseudonym != "person":
                columns[c.name] = loaded[f"_{c.name}_pid"]
        return loaded.select(**columns)

    def finish(self, loads: list[RegisterLoad]) -> None:
        """Write the tables that span registers: persons, quarantine and loads."""
        delivered = [load.register for load in loads]
        person = self.maps["person"]
        persons = person.filter(person.problem.isnull()).select(
            "pid", "birth_year", "birth_month", "sex"
        )
        if self.wh.has("persons"):
            persons = ibis.union(self.wh.table("persons"), persons, distinct=True)
        self.wh.write("persons", persons)
        quarantine = ibis.union(*self.quarantine) if self.quarantine else None
        if self.wh.has("quarantine"):
            old = self.wh.table("quarantine")
            old = old.filter(~old.register.isin(delivered))
            quarantine = old if quarantine is None else ibis.union(old, quarantine)
        if quarantine is not None:
            self.wh.write("quarantine", quarantine)
        loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
        rows = pa.Table.from_pylist(
            [load_row(load, loaded_at, self.engine.name) for load in loads], schema=LOADS
        )
        history = ibis.memtable(rows)
        if self.wh.has("loads"):
            history = ibis.union(self.wh.table("loads"), history)
        self.wh.write("loads", history)


PURPOSES: tuple[Purpose, ...] = ("person", "employer", "family")


def _map(purpose: str, key: bytes, codes: list[str], first: int) -> pa.Table:
    if purpose == "person":
        return person_map(key, codes, first)
    return identifier_map(key, codes, first)
