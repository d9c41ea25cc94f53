"""Merging the outputs of per-chromosome scans (``jaxgen scan --chromosome``) into one genome-wide scan.

Loci are clumped within a chromosome, so the jobs' loci are the loci of the whole genome: they are
concatenated, ordered as :func:`jaxgen.scan.clump` orders them (by p, then chromosome and position) and
renumbered. The sumstats are concatenated in chromosome order; λ_GC, the plots and the report are then
made from the whole table (:func:`jaxgen.reports.scan.write_scan_tables`). With a LOCO kinship, or a
kinship file, a per-chromosome job tests its SNPs against the very null model a genome-wide job would,
so the merge equals the one-job scan.

Refused: folders that are not scan outputs, chromosomes scanned twice, and jobs that differ in their tests,
their columns, their regions, their subjects (N), their genome-wide line, or in having a per-region file.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from jaxgen.io.errors import InputError
from jaxgen.scan.finemap import FineMap
from jaxgen.scan.sumstats import chromosome_order

__all__ = ["MergedScan", "ScanFolder", "merge_scans"]


@dataclass(frozen=True)
class ScanFolder:
    """One scan's output folder, read: sumstats (the sumstats.tsv.gz columns), loci, summary (scan.json),
    its chromosomes in order, and its fine-mapping (or None)."""

    path: Path
    sumstats: pd.DataFrame
    loci: pd.DataFrame
    summary: dict
    chromosomes: list[str]
    finemap: FineMap | None

    @classmethod
    def read(cls, path: str | Path) -> ScanFolder:
        path = Path(path)
        needed = [path / name for name in ("sumstats.tsv.gz", "loci.csv", "scan.json")]
        absent = [p.name for p in needed if not p.is_file()]
        if absent:
            raise InputError(path, f"not the output folder of jaxgen scan: no {', '.join(absent)}")
        sumstats = pd.read_csv(needed[0], sep="\t", dtype={"CHR": str, "SNP": str})
        loci = pd.read_csv(needed[1], dtype={"CHR": str, "SNP": str, "SP2": str}, keep_default_na=False)
        summary = json.loads(needed[2].read_text())
        finemap = None
        if (path / "finemap").is_dir():
            finemap = FineMap(regions=pd.read_csv(path / "finemap" / "regions.csv", dtype={"CHR": str, "SNP": str}),
                              snps=pd.read_csv(path / "finemap" / "snps.csv", dtype={"CHR": str, "SNP": str}),
                              settings=summary["finemap"])
        return cls(path, sumstats, loci, summary, list(dict.fromkeys(sumstats["CHR"])), finemap)

    @property
    def per_region(self) -> Path | None:
        """The per-region file, if the scan wrote one."""
        path = self.path / "per_region.tsv.gz"
        return path if path.is_file() else None


@dataclass(frozen=True)
class MergedScan:
    """The merged tables: sumstats, loci (renumbered), summary (for scan.json and the report), finemap
    (or None), and the jobs in chromosome order."""

    sumstats: pd.DataFrame
    loci: pd.DataFrame
    summary: dict
    finemap: FineMap | None
    jobs: list[ScanFolder]

    def write_per_region(self, path: Path) -> bool:
        """Concatenate the jobs' per-region files into ``path`` (one header); False when they have none."""
        if self.jobs[0].per_region is None:
            return False
        with gzip.open(path, "wt") as merged:
            for k, job in enumerate(self.jobs):
                with gzip.open(job.per_region, "rt") as part:
                    header = part.readline()
                    if k == 0:
                        merged.write(header)
                    shutil.copyfileobj(part, merged)
        return True


def merge_scans(folders: Sequence[str | Path]) -> MergedScan:
    """Read and check the scan output ``folders``, and merge their tables (see the module docstring)."""
    jobs = [ScanFolder.read(folder) for folder in folders]
    _check_compatible(jobs)
    order = chromosome_order(pd.Series([c for job in jobs for c in job.chromosomes]))
    jobs.sort(key=lambda job: order[job.chromosomes[0]])
    sumstats = pd.concat([job.sumstats for job in jobs], ignore_index=True)
    loci = pd.concat([job.loci.assign(_job=k) for k, job in enumerate(jobs)], ignore_index=True)
    loci = loci.sort_values(["P", "CHR", "BP"], kind="stable").reset_index(drop=True)
    renumber = {(job, old): new for new, (job, old) in enumerate(zip(loci["_job"], loci["LOCUS"]), start=1)}
    loci = loci.assign(LOCUS=range(1, len(loci) + 1)).drop(columns="_job")
    return MergedScan(sumstats, loci, _merged_summary(jobs), _merged_finemap(jobs, renumber), jobs)


def _check_compatible(jobs: list[ScanFolder]) -> None:
    """Refuse (InputError) jobs that cannot make one scan, naming the two folders that disagree."""
    first = jobs[0]
    seen = {}
    for job in jobs:
        for chromosome in job.chromosomes:
            if chromosome in seen:
                raise InputError(job.path, f"chromosome {chromosome} was scanned in {seen[chromosome]} too: "
                                 "each chromosome must come from one scan")
            seen[chromosome] = job.path
    for job in jobs[1:]:
        if job.summary["tests"] != first.summary["tests"]:
            raise _differ(job, first, "tests", ", ".join(job.summary["tests"]), ", ".join(first.summary["tests"]))
        if list(job.sumstats.columns) != list(first.sumstats.columns):
            raise _differ(job, first, "sumstats.tsv.gz columns", " ".join(job.sumstats.columns),
                          " ".join(first.sumstats.columns))
        if job.summary["regions"] != first.summary["regions"]:
            raise _differ(job, first, "regions", len(job.summary["regions"]), len(first.summary["regions"]))
        if set(job.sumstats["N"]) != set(first.sumstats["N"]):
            raise _differ(job, first, "numbers of subjects (N)", sorted(set(job.sumstats["N"])),
                          sorted(set(first.sumstats["N"])))
        if job.summary["line"] != first.summary["line"]:
            raise _differ(job, first, "index p-values (--clump-p1)", job.summary["line"], first.summary["line"])
        if (job.per_region is None) != (first.per_region is None):
            raise _differ(job, first, "per-region files (--per-region)", "present" if job.per_region else "absent",
                          "present" if first.per_region else "absent")


def _differ(job: ScanFolder, first: ScanFolder, what: str, mine, theirs) -> InputError:
    """The refusal of ``job``, whose ``what`` is ``mine`` where the first job's is ``theirs``."""
    return InputError(job.path, f"{what} differ: {mine} here, {theirs} in {first.path}; only scans of one study "
                      "with the same settings can be merged")


def _merged_summary(jobs: list[ScanFolder]) -> dict:
    """The merged scan.json: the first job's tests, line, regions and settings; every job's null models
    (with the folder they come from), inputs (prefixed by it), summed times and lead profiles."""
    first = jobs[0].summary
    named = [f"{job.path} ({', '.join(job.chromosomes)})" for job in jobs]
    return {
        "tests": first["tests"], "line": first["line"], "regions": first["regions"],
        "inputs": [f"merged {len(jobs)} scans: {'; '.join(named)}"]
                  + [f"{job.path.name}: {line}" for job in jobs for line in job.summary["inputs"]],
        "settings": {**first["settings"], "merged from": ", ".join(str(job.path) for job in jobs)},
        "null_models": [{"scan": job.path.name, **row} for job in jobs for row in job.summary["null_models"]],
        "seconds": {stage: sum(job.summary["seconds"][stage] for job in jobs) for stage in first["seconds"]},
        "lead_profiles": {snp: text for job in jobs for snp, text in job.summary["lead_profiles"].items()},
        "lead_z": dict(list({snp: z for job in jobs for snp, z in job.summary["lead_z"].items()}.items())[:3]),
        "finemap": next((job.summary["finemap"] for job in jobs if job.finemap is not None), None),
    }


def _merged_finemap(jobs: list[ScanFolder], renumber: dict) -> FineMap | None:
    """The jobs' fine-mapping tables, their loci renumbered as the merged loci.csv; None when none has one."""
    parts = [(k, job.finemap) for k, job in enumerate(jobs) if job.finemap is not None]
    if not parts:
        return None

    def merged(name: str) -> pd.DataFrame:
        table = pd.concat([getattr(f, name).assign(LOCUS=[renumber[(k, old)] for old in getattr(f, name)["LOCUS"]])
                           for k, f in parts], ignore_index=True)
        return table.sort_values("LOCUS", kind="stable").reset_index(drop=True)

    return FineMap(regions=merged("regions"), snps=merged("snps"), settings=parts[0][1].settings)
