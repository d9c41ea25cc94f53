"""jaxgen: GPU-accelerated probabilistic programming for brain imaging genetics, on JAX.

Subpackages
-----------
data   simulators with ground truth (spatial multitask LMM, multi-task CCA)
stats  Cauchy combination test and classic association baselines
"""

__version__ = "0.1.0"
