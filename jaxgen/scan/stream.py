"""The genome-wide scan: fit the null model once (or once per chromosome with LOCO), then stream the
genotypes through its score tests block by block.

Per block of SNPs read from the genotype files (:meth:`jaxgen.io.genotype_source.GenotypeSource.blocks`, QC'd as
:func:`jaxgen.io.read_plink` does): the dosages of the analysed subjects are standardized (ddof = 1, as
:func:`jaxgen.lmm.prepare_data` does), rotated by the kinship eigenvectors Uᵀ and passed through
:func:`jaxgen.lmm.score_tests`, in one compiled function of a fixed block shape (the last block is padded
by repeating its last SNP, whose copies are dropped), its SNP columns spread over the platform's
accelerators when it has several (the block size is rounded up to a multiple of their number; on CPU one
device, whose thread pool runs on every core). Only the tests asked for are computed. JAX dispatches a
block's tests asynchronously, so the next block is read from disk while they run. Memory is that of one block, the (n, n) rotation and,
with LOCO, the per-chromosome GRM sums; the results kept are one row per SNP (plus the per-region z of
SNPs with p below ``keep_profiles``).

Kinship: ``"loco"`` — for chromosome k, the GRM of the other chromosomes' SNPs, its eigendecomposition
and a null model refitted on it, so no SNP is tested against a kinship that contains it; ``"grm"`` — one
GRM of every SNP; or a kinship matrix (n, n) on the subjects of ``Y``.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Sequence

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec
import numpy as np
import pandas as pd

from jaxgen.io.log import ReadLog
from jaxgen.io.genotype_source import GenotypeSource, QCCounts
from jaxgen.lmm.data import prepare_data
from jaxgen.lmm.null import NullModel, fit_null_model
from jaxgen.lmm.scores import TESTS, check_tests, score_tests
from jaxgen.runtime import batch_mesh, platform_devices, require_memory
from jaxgen.scan.kinship import GRM_BLOCK, ChromosomeRelationships, SparseKinshipWarning

__all__ = ["ScanResult", "scan", "subject_rows"]

_HIGHEST = jax.lax.Precision.HIGHEST


@dataclass(frozen=True)
class ScanResult:
    """What a scan found.

    sumstats : one row per tested SNP, in genome order: CHR, BP, SNP, A1, A2, A1_FREQ, N, and per test
        ``LOG_P_<TEST>`` (natural log of the p-value), for each test the scan computed.
    profiles : per-region z (SNPs × regions) of the SNPs whose smallest p lies below the scan's
        ``keep_profiles``; nulls : the null model of each chromosome (key None for one shared model);
    regions : region names; seconds : wall time per stage (``kinship``, ``null``, ``tests``);
    relationships : the GRM sums when the scan built its kinship from the genotypes, else None;
    kinship_matrix : the kinship matrix given, else None.
    """

    sumstats: pd.DataFrame
    profiles: pd.DataFrame
    nulls: dict
    regions: list[str]
    seconds: dict
    relationships: ChromosomeRelationships | None = None
    kinship_matrix: np.ndarray | None = None

    def kinship(self, chromosome: str) -> np.ndarray | None:
        """The kinship (n, n) the SNPs of ``chromosome`` were tested against: with LOCO (one null model per
        chromosome) the GRM of the other chromosomes, else the GRM of every SNP or the matrix given."""
        if self.relationships is None:
            return self.kinship_matrix
        loco = None not in self.nulls
        return self.relationships.relationship(leave_out=chromosome if loco else None)


def scan(fileset: GenotypeSource, Y: pd.DataFrame, adjacency, covariates: pd.DataFrame | None = None,
         kinship="loco", *, tests: Sequence[str] = TESTS, chromosomes: Sequence[str] | None = None,
         block_size: int = 1000, devices=None,
         heritability: str = "per-region", keep_profiles: float = 1e-5, per_region=None, progress: bool = False,
         log: ReadLog | None = None) -> ScanResult:
    """Test every selected SNP of ``fileset`` against the null model of the QTs ``Y``.

    fileset : an opened genotype source (PLINK 1/2, BGEN; its selection and MAF threshold give the SNPs tested);
    Y : (n, c) QTs indexed by subject ids, all in the fileset; adjacency : (c, c) region graph;
    covariates : (n, m) with an intercept column, indexed like Y (default: intercept only);
    kinship : "loco", "grm" or an (n, n) matrix on Y's subjects (the GRMs use every SNP of the fileset that
        passes the QC, whatever the selection); tests : the SNP-level tests computed (of
        :data:`jaxgen.lmm.TESTS`; the whitened ones cost a c × c solve per SNP); chromosomes : test only
        these (default all);
    block_size : SNPs per block; devices : the devices a block's SNP columns are spread over (default: every
        device of the platform, but one CPU device, whose thread pool already runs on every core: on CPU two
        devices are slower than one); heritability : of the null model (see :func:`jaxgen.lmm.fit_null_model`);
    per_region : a text file open for writing, or None: receives, as the blocks go, a TSV row per
        (SNP, region): SNP, REGION, BETA, SE (per copy of A1, in units of the QT), Z;
    progress : a progress line on stderr (SNPs/s, time left); log : where stages and their costs go.
    """
    log = log or ReadLog()
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    tests = check_tests(tests)
    if not isinstance(Y, pd.DataFrame):
        raise TypeError(f"Y must be a pandas DataFrame of QTs indexed by subject id (the fileset's IIDs), got "
                        f"{type(Y).__name__}")
    rows = subject_rows(fileset, Y.index)
    tested = _tested_snps(fileset, chromosomes)
    C = np.ones((len(Y), 1)) if covariates is None else np.asarray(covariates, float)
    seconds = {"kinship": 0.0, "null": 0.0, "tests": 0.0}
    relationships, loco = None, isinstance(kinship, str) and kinship == "loco"
    if isinstance(kinship, str):
        if kinship not in ("loco", "grm"):
            raise ValueError(f"kinship must be 'loco', 'grm' or a matrix, got {kinship!r}")
        every_chromosome = set(fileset.table["chromosome"])
        if loco and len(every_chromosome) < 2:
            raise ValueError(f"{fileset.variants} has SNPs on chromosome {every_chromosome.pop()} only: "
                             "a leave-one-chromosome-out kinship needs two; use kinship 'grm' or a kinship file")
        n = len(rows)
        require_memory(8.0 * (2 * len(every_chromosome) + 4) * n * n + 8.0 * n * GRM_BLOCK * 3,
                       f"the per-chromosome GRM sums of {n} subjects on {len(every_chromosome)} chromosomes",
                       "scan fewer subjects, or give a kinship file", host=True)
        start = time.perf_counter()
        reading = _Progress(len(fileset.table), progress, "kinship")
        relationships = ChromosomeRelationships.accumulate(fileset, rows, np.arange(len(fileset.table)),
                                                           on_block=reading.advance, dtype=jnp.result_type(float))
        reading.break_line()
        seconds["kinship"] = time.perf_counter() - start
        log.add(f"kinship: GRM sums of {sum(relationships.snps.values())} SNPs after QC on "
                f"{len(relationships.snps)} chromosomes (one pass over the genotypes) in {seconds['kinship']:.1f} s")
        sparse = relationships.sparse_kinship_message(loco)
        if sparse is not None:
            warnings.warn(sparse, SparseKinshipWarning, stacklevel=2)
            log.add(f"warning: {sparse}")
    chromosome_of = fileset.table["chromosome"].to_numpy()
    groups = list(dict.fromkeys(chromosome_of[tested])) if loco else [None]
    stream = _Stream(fileset, rows, block_size, keep_profiles, _Progress(len(tested), progress), per_region,
                     [str(r) for r in Y.columns], tests, devices)
    nulls = {}
    for chromosome in groups:
        start = time.perf_counter()
        K = relationships.relationship(leave_out=chromosome) if relationships is not None else kinship
        data, info = prepare_data(Y.to_numpy(), np.zeros((len(Y), 0)), adjacency, C, K)
        nulls[chromosome] = jax.block_until_ready(fit_null_model(data, heritability=heritability,
                                                                  omnibus="omnibus" in tests,
                                                                  cct="cct" in tests))  # timed whole
        elapsed = time.perf_counter() - start
        seconds["null"] += elapsed
        stream.meter.break_line()
        log.add(f"null model{'' if chromosome is None else f' for chromosome {chromosome} (LOCO kinship)'}: "
                f"kinship eigendecomposition and REML fit in {elapsed:.1f} s")
        start = time.perf_counter()
        stream.run(tested if chromosome is None else tested[chromosome_of[tested] == chromosome],
                   nulls[chromosome], info["rotation"])
        seconds["tests"] += time.perf_counter() - start
    stream.meter.break_line()
    stream.qc.report(fileset.path, fileset.maf_min, log)
    if stream.constant:
        log.add(f"{fileset.path}: {stream.constant} SNPs constant over the {len(rows)} analysed subjects, not tested")
    regions = [str(r) for r in Y.columns]
    if not stream.tables:
        raise ValueError(f"{fileset.path}: no SNP left to test after quality control")
    sumstats = pd.concat(stream.tables, ignore_index=True)
    profiles = pd.DataFrame(np.concatenate(stream.z) if stream.z else np.zeros((0, len(regions))),
                            index=[snp for ids in stream.profiled for snp in ids], columns=regions)
    log.add(f"scan: {len(sumstats)} SNPs tested in {seconds['tests']:.1f} s, compilation included "
            f"({len(sumstats) / max(seconds['tests'], 1e-9):.0f} SNPs/s, {len(rows)} subjects, {len(regions)} regions)")
    return ScanResult(sumstats=sumstats, profiles=profiles, nulls=nulls, regions=regions, seconds=seconds,
                      relationships=relationships, kinship_matrix=None if isinstance(kinship, str) else kinship)


def subject_rows(fileset: GenotypeSource, subjects) -> np.ndarray:
    """Rows (n,) of ``subjects`` in the fileset (each must be there)."""
    row = {s: i for i, s in enumerate(fileset.subject_ids)}
    missing = [str(s) for s in subjects if str(s) not in row]
    if missing:
        raise ValueError(f"{len(missing)} subjects of the QTs are not in {fileset.path}: {', '.join(missing[:5])}")
    return np.array([row[str(s)] for s in subjects], dtype=int)


def _tested_snps(fileset: GenotypeSource, chromosomes) -> np.ndarray:
    """The fileset's selected SNP indices on ``chromosomes`` (all when None)."""
    if chromosomes is None:
        return fileset.selected
    wanted = {str(c) for c in chromosomes}
    on = fileset.table["chromosome"].to_numpy()[fileset.selected]
    unknown = sorted(wanted - set(on))
    if unknown:
        raise ValueError(f"no selected SNP of {fileset.variants} lies on chromosome "
                         f"{', '.join(unknown)}; it has {', '.join(dict.fromkeys(on))}")
    return fileset.selected[np.isin(on, list(wanted))]


@partial(jax.jit, static_argnames="tests")
def _rotated_tests(null: NullModel, rotation, dosages, tests):
    """(score tests ``tests`` (:func:`score_tests`), sds (b,)) of the dosages (n, b), each column standardized
    (ddof = 1) and rotated by Uᵀ (n, n); every column must vary."""
    X = jnp.asarray(dosages, null.inverse_variance.dtype)
    X = X - X.mean(axis=0)
    sd = jnp.sqrt(jnp.sum(X * X, axis=0) / (X.shape[0] - 1))
    X = X / sd
    return score_tests(null, X if rotation is None else jnp.matmul(rotation, X, precision=_HIGHEST), tests), sd


class _Stream:
    """Streams SNP blocks through the tests and keeps their results (tables, qc, profiles)."""

    def __init__(self, fileset, rows, block_size, keep_profiles, meter, per_region, regions, tests, devices):
        if devices is None:
            devices = platform_devices()
            devices = devices[:1] if devices[0].platform == "cpu" else devices
        mesh = batch_mesh(devices)
        # the SNP columns of a block are spread over the platform's devices (a block is a multiple of their number)
        self.columns = None if mesh.size == 1 else NamedSharding(mesh, PartitionSpec(None, "batch"))
        block_size = -(-block_size // mesh.size) * mesh.size
        self.fileset, self.rows, self.block_size, self.meter = fileset, rows, block_size, meter
        self.every_row = np.array_equal(rows, np.arange(len(fileset.subject_ids)))  # no copy of the subjects
        self.per_region, self.regions, self.tests = per_region, regions, tests
        if per_region is not None:
            per_region.write("SNP\tREGION\tBETA\tSE\tZ\n")
        self.log_keep = np.log(keep_profiles)
        self.qc, self.constant = QCCounts(), 0
        self.tables, self.z, self.profiled = [], [], []

    def run(self, indices, null: NullModel, rotation) -> None:
        """Test the SNPs ``indices`` against ``null`` (rotation Uᵀ (n, n) or None). A block's tests are
        dispatched, then the next block is read while they run, then its results are fetched."""
        rotation = None if rotation is None else jnp.asarray(rotation, null.inverse_variance.dtype)
        pending = None
        for block, counts in self.fileset.blocks(self.block_size, indices):
            self.qc += counts
            dispatched = self._dispatch(block, null, rotation)
            if pending is not None:
                self._collect(*pending)
            pending = dispatched
            self.meter.advance(len(counts.monomorphic) + len(counts.rare) + counts.kept)
        if pending is not None:
            self._collect(*pending)

    def _dispatch(self, block, null, rotation):
        """Take a QC'd block's analysed subjects, pad it to ``block_size`` columns (repeating its last SNP) and
        start its tests (standardized on the device); returns (its SNP table, (the tests, the SNPs' sds) being
        computed, or None)."""
        X = block.dosages if self.every_row else block.dosages[self.rows]
        varies = X.max(axis=0) > X.min(axis=0)  # polymorphic in the fileset but constant here: untestable
        snps = block.snps
        if not varies.all():
            self.constant += int((~varies).sum())
            X, snps = X[:, varies], snps[varies].reset_index(drop=True)
        if not len(snps):
            return snps, None
        if X.shape[1] < self.block_size:
            X = np.concatenate([X, np.repeat(X[:, -1:], self.block_size - X.shape[1], axis=1)], axis=1)
        if self.columns is not None:
            X = jax.device_put(X, self.columns)
        return snps, _rotated_tests(null, rotation, X, self.tests)

    def _collect(self, snps, computed) -> None:
        if computed is None:
            return
        tests, sd = computed
        k = len(snps)
        log_p = {test: np.asarray(tests.log_p_of(test))[:k] for test in self.tests}
        self.tables.append(pd.DataFrame({
            "CHR": snps["chromosome"].to_numpy(), "BP": snps["position"].to_numpy(), "SNP": snps["snp"].to_numpy(),
            "A1": snps["allele_1"].to_numpy(), "A2": snps["allele_2"].to_numpy(),
            "A1_FREQ": snps["a1_frequency"].to_numpy(), "N": len(self.rows),
            **{f"LOG_P_{test.upper()}": values for test, values in log_p.items()}}))
        if self.per_region is not None:
            self._write_per_region(snps["snp"].to_numpy(), tests, np.asarray(sd)[:k])
        smallest = np.nanmin(np.column_stack(list(log_p.values())), axis=1)
        keep = smallest < self.log_keep
        if keep.any():
            self.z.append(np.asarray(tests.z)[:k][keep])
            self.profiled.append(snps["snp"][keep].tolist())


    def _write_per_region(self, snp_ids, tests, sd) -> None:
        """Rows (SNP, region) of the block: effects per standardized SNP divided by its sd are per allele."""
        k, c = len(snp_ids), len(self.regions)
        per_allele = 1.0 / sd[:, None]
        pd.DataFrame({"SNP": np.repeat(snp_ids, c), "REGION": np.tile(self.regions, k),
                      "BETA": (np.asarray(tests.beta)[:k] * per_allele).ravel(),
                      "SE": (np.asarray(tests.se)[:k] * per_allele).ravel(),
                      "Z": np.asarray(tests.z)[:k].ravel()}).to_csv(self.per_region, sep="\t", header=False,
                                                                   index=False, float_format="%.6g")


class _Progress:
    """A progress line on stderr: SNPs done, SNPs/s and time left (updated at most twice a second)."""

    def __init__(self, total: int, show: bool, label: str = "scan"):
        self.total, self.show, self.label, self.done_snps, self.on_line = total, show, label, 0, False
        self.start = self.last = time.perf_counter()

    def advance(self, snps: int) -> None:
        self.done_snps += snps
        now = time.perf_counter()
        if self.show and (now - self.last > 0.5 or self.done_snps >= self.total):
            self.last = now
            rate = self.done_snps / max(now - self.start, 1e-9)
            left = (self.total - self.done_snps) / max(rate, 1e-9)
            print(f"\r{self.label}: {self.done_snps}/{self.total} SNPs, {rate:,.0f} SNPs/s, {left:,.0f} s left   ",
                  end="", file=sys.stderr, flush=True)
            self.on_line = True

    def break_line(self) -> None:
        """End the progress line, so that what is printed next starts on its own line."""
        if self.on_line:
            print(file=sys.stderr, flush=True)
            self.on_line = False
