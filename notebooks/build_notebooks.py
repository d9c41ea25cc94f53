"""Write the three notebooks from the cell sources below (run: python notebooks/build_notebooks.py).

Keeping the sources here lets reviews read them as plain Python; the .ipynb files are what users open.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SETUP = '''# Colab: install jaxgen with the GPU build of JAX, PLINK reading and plots. Set JAXGEN_PIP to where
# your copy of jaxgen lives (a path, or "jaxgen[cuda12,io,plot] @ git+https://…" for a repository).
import os, subprocess, sys
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    os.environ.get("JAXGEN_PIP", "jaxgen[cuda12,io,plot]")], check=True)
import jax
print(f"JAX {jax.__version__}; computing on {jax.devices()[0].platform.upper()}: {jax.devices()}")
SMALL = os.environ.get("JAXGEN_NOTEBOOK_SMALL") == "1"  # CI runs the notebooks at small sizes'''

WRITE_STUDY = '''import tempfile
from pathlib import Path
from jaxgen.data import simulate_study
from jaxgen.io.simulated import write_study

folder = Path(tempfile.mkdtemp(prefix="jaxgen-study-"))
study = simulate_study(seed=0, n=200 if SMALL else 500, p=40 if SMALL else 100, c=16)
written = write_study(study, folder)
print("files:", ", ".join(p.name for p in written))'''

LMM = [
    new_markdown_cell("# The spatial-correlated multitask LMM, from files to SNP tests\n\n"
                      "Regional QTs of every brain region are regressed jointly on the SNPs. A proper CAR model ties "
                      "neighbouring regions, a kinship term absorbs relatedness, and a custom Gibbs kernel samples the "
                      "posterior with several chains vectorized on one device. The posterior gives the effects; the SNP "
                      "tests come from a null model fitted once (REML, one heritability per region): per-region score "
                      "tests, whitened χ² tests with the regions' correlation, and their Cauchy combination (CCT).\n\n"
                      "We simulate a study with known causal SNPs, write it as a real study comes (PLINK genotypes, a QT "
                      "table, covariates, a region adjacency and a kinship matrix), and analyse the files."),
    new_code_cell(SETUP),
    new_markdown_cell("## 1. A study on disk"),
    new_code_cell(WRITE_STUDY),
    new_markdown_cell("## 2. Read it back: QC, alignment by subject id, one-hot covariates\n\n"
                      "`load_lmm_study` is the path every analysis takes; it says what it read and dropped."),
    new_code_cell('''from jaxgen.io import ReadLog, load_lmm_study

inputs = load_lmm_study(folder / "genotypes", folder / "qt.csv", covariates=folder / "covariates.csv",
                        adjacency=folder / "adjacency.csv", kinship=folder / "kinship.csv", log=ReadLog(print))
inputs.covariates.head()'''),
    new_markdown_cell("## 3. Sample the posterior with the Gibbs kernel"),
    new_code_cell('''from jaxgen import lmm
from jaxgen.data import standardize_columns

Y, _, _ = standardize_columns(inputs.Y.to_numpy())
fit = lmm.fit(Y, inputs.X, inputs.adjacency, covariates=inputs.covariates.to_numpy(), kinship=inputs.kinship,
              num_chains=4, num_warmup=300 if SMALL else 500, num_samples=500 if SMALL else 1000,
              region_names=list(inputs.Y.columns), progress=False)
print(f"sampling took {fit.seconds:.1f} s (compilation included)")
fit.diagnostics(var_names=["rho", "h2", "sigma2"])'''),
    new_markdown_cell("R-hat near 1 and large effective sample sizes: the chains agree. The trace and rank plots show it:"),
    new_code_cell('''from jaxgen.plots import rank_plot, trace_plot

trace_plot(fit.posterior, ["rho", "h2", "sigma2"]);'''),
    new_code_cell('''rank_plot(fit.posterior, ["rho", "h2", "sigma2"]);'''),
    new_markdown_cell("## 4. Which SNPs act on the brain?\n\nOne p-value per SNP: the omnibus score test against the "
                      "null model (`fit.null_model`). The circles mark the SNPs the simulation made causal; the dashed "
                      "line is the Bonferroni threshold."),
    new_code_cell('''from jaxgen.plots import association_heatmap, manhattan

snp_tests = fit.snp_tests()
causal = [inputs.X.columns[j] for j in study.lmm.truth.causal.nonzero()[0]]
manhattan(snp_tests, inputs.genotypes.snps, highlight=causal);'''),
    new_code_cell('''association_heatmap(fit.associations(), max_snps=20);'''),
    new_markdown_cell("## 5. Against the classic analysis\n\nOne OLS per (SNP, region), combined by the same CCT: "
                      "it ignores relatedness and the spatial structure."),
    new_code_cell('''import numpy as np
from jaxgen.stats import cct, mass_univariate_ols

ols = mass_univariate_ols(Y, inputs.X.to_numpy(), inputs.covariates.to_numpy())
snp_tests["ols_cct_p"] = np.asarray(cct(ols.pvalue, axis=1))
snp_tests["causal"] = snp_tests["snp"].isin(causal)
snp_tests.sort_values("p_value").head(8)'''),
    new_markdown_cell("The null model's estimates: one heritability per region and the CAR correlation between regions."),
    new_code_cell('''summary = fit.null_model.summary(list(inputs.Y.columns))
print(f"rho genetic = {summary['rho_genetic']:.3f}, residual = {summary['rho_residual']:.3f}")
print("h2 by region:", {k: round(v, 2) for k, v in summary["h2"].items()})'''),
]

CCA = [
    new_markdown_cell("# Multi-task structured sparse CCA (MTS2CCA) on three imaging modalities\n\n"
                      "SNPs against cortical thickness, area and volume of the same regions: one canonical pair per "
                      "modality, with ℓ2,1 sparsity shared across modalities and GraphNet penalties from the LD "
                      "network and the brain network. The simulation gives the modalities high, medium and low "
                      "canonical correlation with the SNPs."),
    new_code_cell(SETUP),
    new_code_cell(WRITE_STUDY),
    new_markdown_cell("## 1. Read the genotypes and the three FreeSurfer-style tables"),
    new_code_cell('''from jaxgen.io import ReadLog, load_cca_study

inputs = load_cca_study(folder / "genotypes", [folder / f"{m}.csv" for m in ("thickness", "area", "volume")],
                        adjacency=folder / "adjacency.csv", log=ReadLog(print))
X, Ys = inputs.X.to_numpy(), [Y.to_numpy() for Y in inputs.Ys]'''),
    new_markdown_cell("## 2. Tune by cross-validation: every setting × fold in one compiled computation"),
    new_code_cell('''from jaxgen.cca import MTS2CCA, cross_validate

grid = {"beta1": [1.0, 10.0, 100.0], "beta2": [1.0, 10.0, 100.0], "lam1": [0.1, 1.0], "lam2": [0.1, 1.0]}
result = cross_validate(MTS2CCA(max_iter=100), X, Ys, Ly=inputs.Ly, param_grid=grid, cv=5, seed=0)
print("best:", result.best_params)
print("held-out correlation per modality:", result.mean_test_corr[result.best_index].round(3),
      "truth:", study.cca_truth.ccc)'''),
    new_code_cell('''from jaxgen.plots import cv_curves

cv_curves(result.table(), list(grid), tasks=inputs.modalities);'''),
    new_markdown_cell("## 3. The weights: which SNPs and regions carry the canonical signal?\n\n"
                      "Shaded: the simulation's true SNPs and regions."),
    new_code_cell('''from jaxgen.cca import selection_auc
from jaxgen.plots import weight_stems

fit = result.best_estimator
truth = study.cca_truth
print(f"selection AUC: SNPs {selection_auc(fit.U_, truth.causal_snps):.3f}, "
      f"regions {selection_auc(fit.V_, truth.causal_regions):.3f}")
weight_stems(fit.U_, list(inputs.X.columns), tasks=inputs.modalities, truth=truth.causal_snps);'''),
    new_code_cell('''weight_stems(fit.V_, inputs.regions, tasks=inputs.modalities, truth=truth.causal_regions, what="region");'''),
    new_markdown_cell("## 4. Is the association real? A permutation test (vmapped over shuffles)"),
    new_code_cell('''from jaxgen.cca import permutation_test

test = permutation_test(fit, X, Ys, Ly=inputs.Ly, n_permutations=100 if SMALL else 500, seed=1, progress=False)
print("p-value per modality:", test.p_values.round(4), "— any association:", round(test.p_value, 4))'''),
    new_markdown_cell("## 5. The comparison family on the same data"),
    new_code_cell('''import pandas as pd
from jaxgen.cca import MTSCCA, SCCA

rows = []
for estimator, family_grid in ((MTSCCA(max_iter=100), {"beta1": [1.0, 10.0], "beta2": [1.0, 10.0]}),
                               (SCCA(max_iter=100), {"alpha1": [0.1, 1.0], "alpha2": [0.1, 1.0]})):
    r = cross_validate(estimator, X, Ys, Ly=inputs.Ly, param_grid=family_grid, cv=5, seed=0, progress=False)
    rows.append([type(estimator).__name__, *r.mean_test_corr[r.best_index].round(3)])
rows.append(["MTS2CCA", *result.mean_test_corr[result.best_index].round(3)])
pd.DataFrame(rows, columns=["method", *inputs.modalities])'''),
]

SPEED = [
    new_markdown_cell("# CPU versus GPU\n\nThe same two jobs on every platform JAX sees here: Gibbs sampling of the "
                      "spatial LMM (chains vectorized) and a CV grid of MTS2CCA (settings × folds vectorized). "
                      "Times exclude compilation (each job runs once to compile, then is timed) and wait for the "
                      "device with `block_until_ready`. On Colab choose a GPU runtime to see the difference."),
    new_code_cell(SETUP),
    new_code_cell('''import time
import numpy as np
import pandas as pd
from jaxgen import lmm
from jaxgen.cca import MTS2CCA, cross_validate
from jaxgen.data import simulate_multitask_cca, simulate_spatial_lmm

lmm_data = simulate_spatial_lmm(0, n=200 if SMALL else 1000, p=20 if SMALL else 200, c=16, n_causal=3, rho=0.8, h2=0.3)
cca_data = simulate_multitask_cca(0, n=100 if SMALL else 300, p=30 if SMALL else 150, q=20 if SMALL else 60)
grid = {"beta1": [0.1, 1.0, 10.0], "beta2": [0.1, 1.0, 10.0], "lam1": [0.1, 1.0, 10.0]}

def gibbs():
    d = lmm_data
    return lmm.fit(d.Y, d.X, d.adjacency, covariates=d.covariates, kinship=d.kinship, num_chains=8,
                   num_warmup=100 if SMALL else 500, num_samples=100 if SMALL else 1000, progress=False).draws["B"]

def cv_grid():
    d = cca_data
    return cross_validate(MTS2CCA(max_iter=100, tol=0.0), d.X, d.Ys, Lx=d.Lx, Ly=d.Ly, param_grid=grid,
                          cv=5, progress=False).test_corr

def seconds(job, device):
    with jax.default_device(device):
        jax.block_until_ready(job())          # compile
        start = time.perf_counter()
        jax.block_until_ready(job())
        return time.perf_counter() - start'''),
    new_code_cell('''platforms = [jax.devices("cpu")[0]] + [d for d in jax.devices() if d.platform != "cpu"][:1]
timings = pd.DataFrame([{"device": str(d), "Gibbs (s)": seconds(gibbs, d), "CV grid (s)": seconds(cv_grid, d)}
                        for d in platforms]).set_index("device")
timings'''),
    new_code_cell('''import matplotlib.pyplot as plt

ax = timings.plot.bar(rot=0, figsize=(6, 3), title="wall time after compilation (lower is faster)")
ax.set_ylabel("seconds");'''),
]


def main():
    here = Path(__file__).parent
    for name, cells in (("01_spatial_lmm", LMM), ("02_multitask_cca", CCA), ("03_cpu_vs_gpu", SPEED)):
        notebook = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "accelerator": "GPU", "colab": {"provenance": []}})
        nbformat.write(notebook, here / f"{name}.ipynb")


if __name__ == "__main__":
    main()
