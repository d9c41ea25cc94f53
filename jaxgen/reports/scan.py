"""The outputs of a genome-wide scan: sumstats.tsv.gz, loci.csv, lead_snps.txt, manhattan.png, qq.png, report.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jaxgen.plots import brain_map, genome_manhattan, qq_plot, save_figure
from jaxgen.reports.lmm import TEST_TEXT
from jaxgen.reports.markdown import markdown_table
from jaxgen.scan import ScanResult, genomic_control, sumstats_table

__all__ = ["write_scan_outputs"]

_PROFILE_REGIONS = 5  # regions listed per lead SNP in the report
_BRAIN_MAP_LEADS = 3  # lead SNPs drawn region by region (brain.png)


def write_scan_outputs(result: ScanResult, loci: pd.DataFrame, folder: str | Path, *, tests: list[str],
                       line: float = 5e-8, inputs: list[str] = (), settings: dict | None = None) -> list[Path]:
    """Write the scan's files into ``folder``; returns their paths.

    loci : from :func:`jaxgen.scan.clump` on the first (primary) of ``tests``; line : the genome-wide
    threshold drawn on the Manhattan plot; inputs : what was read; settings : the run's options.
    """
    folder = Path(folder)
    table = sumstats_table(result.sumstats, tests)
    written = [folder / "sumstats.tsv.gz", folder / "loci.csv", folder / "lead_snps.txt"]
    table.to_csv(written[0], sep="\t", index=False, float_format="%.6g", compression="gzip")
    loci.to_csv(written[1], index=False)
    written[2].write_text("".join(f"{snp}\n" for snp in loci["SNP"]))
    p_values = {test: table[f"P_{test.upper()}"].to_numpy() for test in tests}
    lambdas = {test: genomic_control(p) for test, p in p_values.items()}
    figures = {"manhattan.png": genome_manhattan(table, line=line, title=f"{tests[0]} test, {len(table)} SNPs"),
               "qq.png": qq_plot(p_values, lambdas)}
    if not _lead_profiles(result, loci).empty:
        figures["brain.png"] = brain_map(_lead_profiles(result, loci), title="per-region z of the lead SNPs",
                                         symmetric=True)
    written += [save_figure(figure, folder / name) for name, figure in figures.items()]
    (folder / "report.md").write_text(_report(result, table, loci, lambdas, tests, line, inputs, settings or {}))
    return written + [folder / "report.md"]


def _report(result, table, loci, lambdas, tests, line, inputs, settings) -> str:
    null_rows = []
    for chromosome, null in result.nulls.items():
        summary = null.summary(result.regions)
        h2 = np.array(list(summary["h2"].values()))
        null_rows.append({"kinship": "shared" if chromosome is None else f"LOCO, chromosome {chromosome}",
                          "h² (median over regions)": float(np.median(h2)), "h² range": f"{h2.min():.3g}–{h2.max():.3g}",
                          "ρ genetic": summary["rho_genetic"], "ρ residual": summary["rho_residual"]})
    seconds = result.seconds
    sections = [
        "# Genome-wide spatial scan", "",
        f"{len(table)} SNPs, {int(table['N'].iloc[0])} subjects, {len(result.regions)} regions. "
        f"{TEST_TEXT[tests[0]]} Columns `P`/`LOG10P` of `sumstats.tsv.gz` hold this test; every test has its "
        "`P_<TEST>`/`LOG10P_<TEST>`.", "",
        "## Inputs", "", *[f"- {line_}" for line_ in inputs], "",
        "## Settings", "", *[f"- {k}: {v}" for k, v in settings.items()], "",
        "## Null model", "", markdown_table(pd.DataFrame(null_rows)), "",
        f"Time: kinship {seconds['kinship']:.1f} s, null models {seconds['null']:.1f} s, tests "
        f"{seconds['tests']:.1f} s ({len(table) / max(seconds['tests'], 1e-9):.0f} SNPs/s).", "",
        "## Genomic control", "",
        markdown_table(pd.DataFrame({"test": list(lambdas), "λ_GC": list(lambdas.values())})), "",
        "![QQ plot](qq.png)", "", "![Manhattan plot](manhattan.png)", "",
        f"## Loci (index p < {line:g}, clumped)", "",
    ]
    if loci.empty:
        sections.append(f"No SNP reaches p < {line:g}.")
    else:
        shown = loci.drop(columns=["SP2"]).head(20).assign(regions=[_profile(result, s) for s in loci["SNP"].head(20)])
        sections += [markdown_table(shown), "",
                     f"`regions`: the {_PROFILE_REGIONS} regions with the largest |z| of the lead SNP's per-region "
                     "score tests (which regions drive it). `lead_snps.txt` feeds `jaxgen lmm --snps`."]
        if not _lead_profiles(result, loci).empty:
            sections += ["", "![per-region z of the lead SNPs](brain.png)"]
    return "\n".join(sections) + "\n"


def _lead_profiles(result: ScanResult, loci: pd.DataFrame) -> pd.DataFrame:
    """Per-region z (regions × at most _BRAIN_MAP_LEADS lead SNPs) of the first loci with a kept profile."""
    profiles = result.profiles[~result.profiles.index.duplicated()]
    leads = [snp for snp in loci["SNP"].head(_BRAIN_MAP_LEADS) if snp in profiles.index]
    return profiles.loc[leads].T


def _profile(result: ScanResult, snp: str) -> str:
    """'region (z), …' of the SNP's largest |z| regions, or '–' without a kept profile."""
    if snp not in result.profiles.index:
        return "–"
    z = result.profiles.loc[snp]
    z = z.iloc[0] if isinstance(z, pd.DataFrame) else z
    top = z.abs().sort_values(ascending=False).index[:_PROFILE_REGIONS]
    return ", ".join(f"{r} ({z[r]:+.1f})" for r in top)
