"""The outputs of a genome-wide scan: sumstats.tsv.gz, loci.csv, lead_snps.txt, manhattan.png, qq.png, report.md,
scan.json (what the report says beyond the tables, read back by ``jaxgen scan merge``) and, with fine-mapping,
finemap/regions.csv and finemap/snps.csv."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from jaxgen.plots import brain_map, genome_manhattan, qq_plot, save_figure
from jaxgen.reports.lmm import TEST_TEXT
from jaxgen.reports.markdown import markdown_table
from jaxgen.scan import FineMap, ScanResult, genomic_control, sumstats_table

__all__ = ["finemap_section", "write_finemap", "write_scan_outputs", "write_scan_tables"]

_PROFILE_REGIONS = 5  # regions listed per lead SNP in the report
_BRAIN_MAP_LEADS = 3  # lead SNPs drawn region by region (brain.png)


def write_scan_outputs(result: ScanResult, loci: pd.DataFrame, folder: str | Path, *, tests: list[str],
                       line: float = 5e-8, inputs: list[str] = (), settings: dict | None = None,
                       finemap: FineMap | None = None) -> list[Path]:
    """Write the scan's files into ``folder``; returns their paths.

    loci : from :func:`jaxgen.scan.clump` on the first (primary) of ``tests``; line : the genome-wide
    threshold drawn on the Manhattan plot; inputs : what was read; settings : the run's options;
    finemap : the loci's fine-mapping (:func:`jaxgen.scan.finemap`), written into ``finemap/``, or None.
    """
    summary = {"tests": list(tests), "line": line, "regions": result.regions, "inputs": list(inputs),
               "settings": {k: str(v) if not isinstance(v, (int, float)) else v for k, v in (settings or {}).items()},
               "null_models": _null_model_rows(result), "seconds": result.seconds,
               "lead_profiles": {snp: _profile(result, snp) for snp in loci["SNP"]},
               "lead_z": _lead_z(result, loci),
               "finemap": None if finemap is None else finemap.settings}
    return write_scan_tables(sumstats_table(result.sumstats, tests), loci, summary, folder, finemap)


def write_scan_tables(table: pd.DataFrame, loci: pd.DataFrame, summary: dict, folder: str | Path,
                      finemap: FineMap | None = None) -> list[Path]:
    """Write a scan's (or a merge of scans') files into ``folder`` from its tables; returns their paths.

    table : the ``sumstats.tsv.gz`` columns (:func:`jaxgen.scan.sumstats_table`); loci : clumped loci;
    summary : what the report says beyond the tables, saved as ``scan.json`` (what ``jaxgen scan merge``
    reads back): tests, line, regions, inputs, settings, null_models (one row per null model),
    seconds (kinship, null, tests), lead_profiles (index SNP → its regions of largest |z|), lead_z (the
    first lead SNPs' per-region z, drawn in brain.png), finemap (its settings or None). λ_GC and the plots are computed from ``table``.
    """
    folder = Path(folder)
    tests, line = summary["tests"], summary["line"]
    written = [folder / "sumstats.tsv.gz", folder / "loci.csv", folder / "lead_snps.txt", folder / "scan.json"]
    table.to_csv(written[0], sep="\t", index=False, float_format="%.6g", compression="gzip")
    loci.to_csv(written[1], index=False)
    written[2].write_text("".join(f"{snp}\n" for snp in loci["SNP"]))
    written[3].write_text(json.dumps(summary, indent=1) + "\n")
    p_values = {test: table[f"P_{test.upper()}"].to_numpy() for test in tests}
    lambdas = {test: genomic_control(p) for test, p in p_values.items()}
    figures = {"manhattan.png": genome_manhattan(table, line=line, title=f"{tests[0]} test, {len(table)} SNPs"),
               "qq.png": qq_plot(p_values, lambdas)}
    if summary["lead_z"]:
        figures["brain.png"] = brain_map(pd.DataFrame(summary["lead_z"]), title="per-region z of the lead SNPs",
                                         symmetric=True)
    written += [save_figure(figure, folder / name) for name, figure in figures.items()]
    report = _report(summary, table, loci, lambdas)
    if finemap is not None:
        written += write_finemap(finemap, folder / "finemap")
        report += "\n" + finemap_section(finemap) + "\n"
    (folder / "report.md").write_text(report)
    return written + [folder / "report.md"]


def _null_model_rows(result: ScanResult) -> list[dict]:
    """One row per null model of the scan: its kinship, h² (median, range over regions) and the ρs."""
    rows = []
    for chromosome, null in result.nulls.items():
        summary = null.summary(result.regions)
        h2 = np.array(list(summary["h2"].values()))
        rows.append({"kinship": "shared" if chromosome is None else f"LOCO, chromosome {chromosome}",
                     "h² (median over regions)": float(np.median(h2)), "h² range": f"{h2.min():.3g}–{h2.max():.3g}",
                     "ρ genetic": summary["rho_genetic"], "ρ residual": summary["rho_residual"],
                     "factor share genetic": summary["factor_genetic"],
                     "factor share residual": summary["factor_residual"],
                     "CAR misfit z": summary["car_misfit"]})
    return rows


def _report(summary, table, loci, lambdas) -> str:
    tests, line, seconds = summary["tests"], summary["line"], summary["seconds"]
    sections = [
        "# Genome-wide spatial scan", "",
        f"{len(table)} SNPs, {int(table['N'].iloc[0])} subjects, {len(summary['regions'])} regions. "
        f"{TEST_TEXT[tests[0]]} Columns `P`/`LOG10P` of `sumstats.tsv.gz` hold this test; every test has its "
        "`P_<TEST>`/`LOG10P_<TEST>`.", "",
        "## Inputs", "", *[f"- {line_}" for line_ in summary["inputs"]], "",
        "## Settings", "", *[f"- {k}: {v}" for k, v in summary["settings"].items()], "",
        "## Null model", "", markdown_table(pd.DataFrame(summary["null_models"])), "",
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
        shown = loci.drop(columns=["SP2"]).head(20)
        shown = shown.assign(regions=[summary["lead_profiles"].get(s, "–") for s in shown["SNP"]])
        sections += [markdown_table(shown), "",
                     f"`regions`: the {_PROFILE_REGIONS} regions with the largest |z| of the lead SNP's per-region "
                     "score tests (which regions drive it). `lead_snps.txt` feeds `jaxgen lmm --snps`."]
        if summary["lead_z"]:
            sections += ["", "![per-region z of the lead SNPs](brain.png)"]
    return "\n".join(sections) + "\n"


def write_finemap(finemap: FineMap, folder: Path) -> list[Path]:
    """regions.csv (one row per locus, SNP and region) and snps.csv (one row per locus and SNP) in ``folder``."""
    folder.mkdir()
    written = [folder / "regions.csv", folder / "snps.csv"]
    finemap.regions.to_csv(written[0], index=False, float_format="%.6g")
    finemap.snps.to_csv(written[1], index=False, float_format="%.6g")
    return written


def finemap_section(finemap: FineMap, top_regions: int = _PROFILE_REGIONS) -> str:
    """The report's fine-mapping section: per locus, the SNP of largest posterior effect and its regions."""
    rows = []
    for locus, snps in finemap.snps.groupby("LOCUS", sort=True):
        best = snps.loc[snps["EFFECT_MEAN"].idxmax()]
        regions = finemap.regions[(finemap.regions["LOCUS"] == locus) & (finemap.regions["SNP"] == best["SNP"])]
        top = regions.reindex(regions["MEAN"].abs().sort_values(ascending=False).index).head(top_regions)
        rows.append({"locus": locus, "lead SNP": snps.loc[snps["LEAD"], "SNP"].iloc[0], "SNPs fitted": len(snps),
                     "largest posterior effect": best["SNP"], "effect (95% CI)":
                     f"{best['EFFECT_MEAN']:.3g} ({best['EFFECT_Q2.5']:.3g}–{best['EFFECT_Q97.5']:.3g})",
                     "regions (posterior mean)": ", ".join(f"{r.REGION} ({r.MEAN:+.2f})" for r in top.itertuples())})
    settings = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in finemap.settings.items())
    return "\n".join([
        "## Fine-mapping", "",
        "The joint Bayesian spatial LMM (Gibbs) on the SNPs of each locus window, against the kinship the scan tested "
        f"them with ({settings}). Effect: the posterior of the SNP's root-mean-square effect over the regions "
        "(per sd of dosage, in QT sd units); `finemap/snps.csv` has every SNP with the posterior SNP test, "
        "`finemap/regions.csv` every (SNP, region) with mean, sd, 95% credible interval, R-hat and ESS.", "",
        markdown_table(pd.DataFrame(rows))])


def _lead_z(result: ScanResult, loci: pd.DataFrame) -> dict:
    """{lead SNP: {region: z}} for at most _BRAIN_MAP_LEADS of the first loci with a kept profile."""
    profiles = result.profiles[~result.profiles.index.duplicated()]
    leads = [snp for snp in loci["SNP"].head(_BRAIN_MAP_LEADS) if snp in profiles.index]
    return {snp: {region: float(z) for region, z in profiles.loc[snp].items()} for snp in leads}


def _profile(result: ScanResult, snp: str) -> str:
    """'region (z), …' of the SNP's largest |z| regions, or '–' without a kept profile."""
    if snp not in result.profiles.index:
        return "–"
    z = result.profiles.loc[snp]
    z = z.iloc[0] if isinstance(z, pd.DataFrame) else z
    top = z.abs().sort_values(ascending=False).index[:_PROFILE_REGIONS]
    return ", ".join(f"{r} ({z[r]:+.1f})" for r in top)
