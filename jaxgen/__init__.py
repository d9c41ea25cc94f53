"""jaxgen: GPU-accelerated probabilistic programming for brain imaging genetics, on JAX.

Subpackages
-----------
data   simulators with ground truth (spatial multitask LMM, multi-task CCA)
stats  Cauchy combination test and classic association baselines
graphs adjacency, CAR precisions, Laplacians, SNP groups
lmm    the spatial-correlated multitask LMM (NumPyro model, Gibbs kernel, fit)
cca    multi-task structured sparse CCA (MTS2CCA and its family, CV, permutation test)
io     reading a user's files (PLINK, QT/covariate tables, graphs), aligned study loaders, atomic outputs
plots  association heatmap, Manhattan, ArviZ trace/rank, canonical weights, CV curves
reports CSV tables, plots and report.md of an analysis
cli    the jaxgen command line: simulate, lmm, cca, demo
runtime how compiled work uses the machine: BLAS threads, devices (single_threaded_blas, spread_over_devices)
"""

__version__ = "0.1.0"
