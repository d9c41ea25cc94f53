"""GEMMA (Zhou & Stephens 2012, 2014) as a peer in the benchmarks: univariate LMM per region and mvLMM.

GEMMA is the Debian package ``gemma`` (``apt-get install gemma``); :func:`find_gemma` says whether it
is on PATH. Inputs go through BIMBAM text files in a scratch folder; every run is ``-lmm 1`` (Wald
test, with the variance components re-estimated per SNP) and single-threaded BLAS. A run that fails,
or whose null-model fit diverged, gives NaN p-values and a line in ``failures``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

_ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def find_gemma() -> str | None:
    """Path of the ``gemma`` executable, or None."""
    return shutil.which("gemma")


class GemmaInputs:
    """A study written once for GEMMA: dosages X (n, p), phenotypes Y (n, c), covariates (n, m) with an
    intercept, kinship (n, n), in ``folder``."""

    def __init__(self, folder, Y, X, covariates, kinship):
        self.folder = Path(folder)
        self.n_snps = X.shape[1]
        self.failures: list[str] = []
        self._write_genotypes("geno.txt", X, range(X.shape[1]))
        np.savetxt(self.folder / "pheno.txt", Y, fmt="%.10g")
        np.savetxt(self.folder / "cov.txt", covariates, fmt="%.10g")
        np.savetxt(self.folder / "kin.txt", kinship, fmt="%.10g")
        self._X = X

    def _write_genotypes(self, name, X, columns):
        lines = (f"rs{j},A,T," + ",".join(f"{g:g}" for g in X[:, j]) for j in columns)
        (self.folder / name).write_text("\n".join(lines) + "\n")

    def wald_p(self, phenotypes, snps=None) -> np.ndarray:
        """GEMMA's Wald p-values (len(snps),) of the LMM of the 0-based phenotype columns ``phenotypes``
        (one: univariate LMM; several: mvLMM) for SNP columns ``snps`` (default all); NaN where GEMMA
        dropped a SNP, and for every SNP when GEMMA stopped with an error or its null-model fit diverged
        (recorded in ``failures``)."""
        snps = np.arange(self.n_snps) if snps is None else np.asarray(snps)
        genotypes = "geno.txt"
        if snps.size != self.n_snps:
            genotypes = "subset.txt"
            self._write_genotypes(genotypes, self._X, snps)
        prefix = "run"
        command = ["gemma", "-g", genotypes, "-p", "pheno.txt", "-c", "cov.txt", "-k", "kin.txt", "-lmm", "1",
                   "-maf", "0.001", "-n", *(str(k + 1) for k in phenotypes), "-o", prefix]
        result = subprocess.run(command, cwd=self.folder, env=_ENV, capture_output=True, text=True)
        problem = result.stderr.strip()[-200:] if result.returncode != 0 else _diverged(
            self.folder / "output" / f"{prefix}.log.txt")
        if problem:
            self.failures.append(f"{' '.join(command)}: {problem}")
            return np.full(snps.size, np.nan)
        return _read_wald_p(self.folder / "output" / f"{prefix}.assoc.txt", snps)


def _diverged(log_path) -> str | None:
    """Why GEMMA's null-model fit in this run's log is unusable, or None.

    Its ML fit can diverge while the run succeeds (seen with the mvLMM: ML log-likelihood 5.0e12
    against a REML one of −2 307; every p-value is then 0 or 1). Sane ML and REML log-likelihoods of
    the same null model differ by a few per cent; the run is refused when they differ by more than
    100 times the REML one, or either is not finite.
    """
    values = {}
    for line in Path(log_path).read_text().splitlines():
        for method in ("REMLE", "MLE"):
            if line.startswith(f"## {method} log-likelihood in the null model"):
                values[method] = float(line.split("=")[1])
    if len(values) < 2:
        return None
    reml, ml = values["REMLE"], values["MLE"]
    if not (np.isfinite(reml) and np.isfinite(ml)) or abs(ml - reml) > 100 * abs(reml):
        return f"null-model fit diverged (REML log-likelihood {reml:g}, ML {ml:g})"
    return None


def _read_wald_p(path, snps):
    """p_wald per requested SNP from a GEMMA .assoc.txt file (NaN for SNPs not in it)."""
    with open(path) as handle:
        header = handle.readline().rstrip("\n").split("\t")
        rs, p = header.index("rs"), header.index("p_wald")
        found = {}
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            found[fields[rs]] = float(fields[p])
    return np.array([found.get(f"rs{j}", np.nan) for j in snps])
