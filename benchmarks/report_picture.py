"""Pictures of the reports for the README: run ``jaxgen demo`` and tile the figures of its LMM and CCA
reports with the top of the LMM report's SNP table (``--out``), and their brain maps (``--brain-out``: the
lead SNP's z and posterior effect, the canonical region weights); run the README's scan example
(``jaxgen simulate``, then ``jaxgen scan --finemap``) and tile its Manhattan and QQ plots with its loci
(``--scan-out``).

Usage: python benchmarks/report_picture.py [--out results/demo_report.png] [--brain-out results/demo_brain.png]
                                           [--scan-out results/scan_report.png]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from plotting import headless_pyplot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "demo_report.png"))
    parser.add_argument("--brain-out", default=str(Path(__file__).parent / "results" / "demo_brain.png"))
    parser.add_argument("--scan-out", default=str(Path(__file__).parent / "results" / "scan_report.png"))
    args = parser.parse_args()
    from jaxgen.cli.demo import run_demo

    folder = Path(tempfile.mkdtemp(prefix="jaxgen-demo-"))
    run_demo(folder, quiet=True)
    plt = headless_pyplot()
    _brain_picture(plt, [folder / "lmm" / "brain.png", folder / "cca" / "brain.png"], args.brain_out)
    _scan_picture(plt, args.scan_out)
    fig = plt.figure(figsize=(14, 11))
    panels = [("lmm/manhattan.png", (0, 0), 2), ("lmm/trace.png", (1, 0), 2), ("cca/cv.png", (2, 0), 2),
              ("cca/weights_regions.png", (3, 0), 1)]
    grid = fig.add_gridspec(4, 2, height_ratios=[1.3, 1.1, 0.8, 1.3])
    for name, (row, col), span in panels:
        _image(plt, fig.add_subplot(grid[row, col:col + span]), folder / name)
    table = pd.read_csv(folder / "lmm" / "snp_tests.csv").head(8)[["snp", "p_value", "log10_p_cct", "log10_p_spatial"]]
    ax = fig.add_subplot(grid[3, 1])
    ax.set_axis_off()
    ax.set_title("lmm/report.md: top SNPs (p-value: the omnibus test)", fontsize=10)
    cells = [[s, f"{p:.2e}", f"{cct:.1f}", f"{spatial:.1f}"] for s, p, cct, spatial in table.itertuples(index=False)]
    ax.table(cells, colLabels=["SNP", "p-value", "log10 p CCT", "log10 p spatial"], loc="center").scale(1, 1.4)
    fig.suptitle("jaxgen demo: the reports of `jaxgen lmm` (top) and `jaxgen cca` (bottom)", fontsize=13)
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")


def _scan_picture(plt, out: str) -> None:
    """The README's scan example, run in a temporary folder: its Manhattan and QQ plots and its loci."""
    from jaxgen.cli.main import main as jaxgen

    folder = Path(tempfile.mkdtemp(prefix="jaxgen-scan-"))
    study = folder / "study"
    assert jaxgen(["simulate", "--out", str(study), "--snps", "3000", "--chromosomes", "3", "--quiet"]) == 0
    files = ["--bfile", str(study / "genotypes"), "--qt", str(study / "qt.csv"), "--covariates",
             str(study / "covariates.csv"), "--adjacency", str(study / "adjacency.csv")]
    scan = folder / "scan-finemap"
    assert jaxgen(["scan", *files, "--kinship", str(study / "kinship.csv"), "--finemap", "--out", str(scan),
                   "--quiet"]) == 0
    fig = plt.figure(figsize=(14, 9))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.0, 1.1], width_ratios=[1.0, 1.2])
    for name, cell in (("manhattan.png", grid[0, :]), ("qq.png", grid[1, 0])):
        _image(plt, fig.add_subplot(cell), scan / name)
    loci = pd.read_csv(scan / "loci.csv")
    ax = fig.add_subplot(grid[1, 1])
    ax.set_axis_off()
    ax.set_title("loci.csv: the clumped loci", fontsize=10)
    cells = [[row.LOCUS, row.SNP, row.CHR, row.BP, f"{row.P:.1e}", row.N_SP2]
             for row in loci.head(8).itertuples(index=False)]
    ax.table(cells, colLabels=["locus", "index SNP", "CHR", "BP", "P (omnibus)", "SNPs clumped"],
             loc="center").scale(1, 1.4)
    fig.suptitle("jaxgen scan (README example, the simulated pedigree's kinship): Manhattan and QQ plots, loci",
                 fontsize=12)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


def _image(plt, ax, path: Path) -> None:
    """A report's PNG ``path`` on the axes ``ax``, without axes."""
    ax.imshow(plt.imread(path))
    ax.set_axis_off()


def _brain_picture(plt, images: list[Path], out: str) -> None:
    """The reports' brain maps side by side, at one height."""
    pictures = [plt.imread(path) for path in images]
    aspects = [p.shape[1] / p.shape[0] for p in pictures]
    fig, axes = plt.subplots(1, len(pictures), figsize=(8 * sum(aspects), 8.6), width_ratios=aspects)
    for ax, picture, path in zip(axes, pictures, images):
        ax.imshow(picture)
        ax.set_axis_off()
        ax.set_title(f"{path.parent.name}/{path.name}", fontsize=9, loc="left")
    fig.suptitle("jaxgen demo: brain maps of the `jaxgen lmm` (left) and `jaxgen cca` (right) reports", fontsize=12)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
