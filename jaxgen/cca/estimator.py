"""The scikit-learn-style shell every CCA method shares: parameters, fit, transform, score.

A method is a subclass that names its numeric hyperparameters (``_hyper_names``, vmappable in
cross-validation) and its solver (a hashable callable ``solver(data, hyper, tol, max_iter)``). A
hyperparameter named in ``_per_task_hypers`` is one number for every modality or a sequence of one
per modality (K,).
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.cca.batch import fit_and_score
from jaxgen.cca.data import CCAInputs, canonical_correlations, check_inputs, check_masks, check_views
from jaxgen.data.align import align_columns
from jaxgen.runtime import single_threaded_blas

__all__ = ["CCAEstimator"]


class CCAEstimator:
    """Base class. Subclasses set ``_hyper_names`` and ``solver`` and define ``__init__`` storing
    every argument unchanged (scikit-learn convention); ``tol``, ``max_iter`` and ``standardize``
    are common to all.

    Fitted attributes: ``U_`` (p, K), ``V_`` (q, K), ``n_iter_``, ``converged_``,
    ``train_correlations_`` (K,), and the training standardization ``x_mean_``, ``x_scale_`` (p,),
    ``y_mean_``, ``y_scale_`` (K, q). Fitted on DataFrames, ``snp_names_`` and ``region_names_`` keep
    their column names (else None), and ``transform``/``score`` pair new DataFrames' columns by them.
    """

    _hyper_names: tuple[str, ...] = ()
    _per_task_hypers: tuple[str, ...] = ()
    _failure_cause = "a system was singular or ill-conditioned; increase the penalties or the ridge terms"
    solver = None

    # -- parameters -------------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments, as given."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor arguments by name; unknown names are refused. Returns self."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid: {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def hyper(self, inputs: CCAInputs | None = None) -> dict:
        """The numeric hyperparameters, checked: floats, and for ``_per_task_hypers`` a float or a
        tuple of K floats. With ``inputs`` (the data to fit) the checks that need the data run too."""
        values = {name: self._hyper_value(name, getattr(self, name), inputs) for name in self._hyper_names}
        for name, value in values.items():
            if not (np.all(np.isfinite(value)) and np.all(np.asarray(value) >= 0)):
                raise ValueError(f"{type(self).__name__}: {name} must be a finite number >= 0, got {value}")
        self._check_hyper(values, inputs)
        if not (np.isfinite(self.tol) and self.tol >= 0):
            raise ValueError(f"tol must be >= 0, got {self.tol}")
        if int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter}")
        return values

    def _hyper_value(self, name: str, value, inputs: CCAInputs | None):
        """One hyperparameter as the solver takes it: a float, or a tuple of K floats (per-task ones)."""
        where = f"{type(self).__name__}: {name}"
        if name in self._per_task_hypers and np.ndim(value) == 1:
            per_task = tuple(float(v) for v in value)
            K = None if inputs is None else inputs.Ys.shape[0]
            if not per_task or (K is not None and len(per_task) != K):
                raise ValueError(f"{where} has {len(per_task)} values but the data have K={K} modalities: "
                                 "give one number (every modality) or one per modality")
            return per_task
        if np.ndim(value) != 0:
            raise ValueError(f"{where} must be one number, got {value!r}")
        return float(value)

    def _check_hyper(self, values: dict, inputs: CCAInputs | None) -> None:
        """Method-specific checks of the hyperparameters (none by default); ``inputs`` when known."""

    def snp_groups(self, inputs: CCAInputs) -> np.ndarray:
        """SNP group labels (p,) in [0, p) seen by group penalties; each SNP its own group by default."""
        return np.arange(inputs.X.shape[1])

    # -- fitting ----------------------------------------------------------------------------------
    def fit(self, X, Ys, Lx=None, Ly=None):
        """Fit on X (n, p) and Ys (K of (n, q), or (K, n, q)) with Laplacians Lx (p, p) and Ly
        ((q, q) or (K, q, q)); omitted Laplacians are built from the data's correlations. Returns self.
        """
        inputs = check_inputs(X, Ys, Lx, Ly)
        hyper = self.hyper(inputs)
        n = inputs.X.shape[0]
        ones = np.ones(n)
        if self.standardize:
            check_masks(inputs, ones[None], "the data")
        with single_threaded_blas():
            result = jax.block_until_ready(fit_and_score(
                self.solver, bool(self.standardize), inputs.X, inputs.Ys, inputs.Lx, inputs.Ly,
                self.snp_groups(inputs), ones, ones, {k: jnp.asarray(v) for k, v in hyper.items()},
                jnp.asarray(self.tol, float), jnp.asarray(int(self.max_iter))))
        self._set_fitted(result, inputs)
        return self

    def _set_fitted(self, result, inputs: CCAInputs) -> None:
        """Store a FitScore's solution as fitted attributes, refusing non-finite weights."""
        U, V = np.asarray(result.solution.U), np.asarray(result.solution.V)
        if not (np.all(np.isfinite(U)) and np.all(np.isfinite(V))):
            side = "U (SNP weights)" if not np.all(np.isfinite(U)) else "V (region weights)"
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite {side}: {self._failure_cause} "
                f"(n={inputs.X.shape[0]}, p={inputs.X.shape[1]}, q={inputs.Ys.shape[2]}). "
                f"Parameters: {self.hyper(inputs)}")
        self.U_, self.V_ = U, V
        self.n_iter_ = int(result.solution.n_iter)
        self.converged_ = bool(result.solution.converged)
        self.train_correlations_ = np.asarray(result.train_corr)
        self.x_mean_, self.x_scale_, self.y_mean_, self.y_scale_ = (np.asarray(a) for a in result.scale)
        self.snp_names_, self.region_names_ = inputs.snp_names, inputs.region_names

    # -- using a fit ------------------------------------------------------------------------------
    def transform(self, X, Ys):
        """Canonical variates: (X scores (n, K), Y scores (n, K)), column k = X̃u_k and Ỹ_kv_k with
        X̃, Ỹ_k standardized by the training means and sds."""
        Zx, Zys = self._standardized(X, Ys)
        return Zx @ self.U_, np.einsum("knq,qk->nk", Zys, self.V_)

    def _standardized(self, X, Ys):
        """X (n, p) and Ys (K, n, q) checked against the fit and standardized by the training stats."""
        self._check_fitted()
        X = align_columns(X, self.snp_names_, "X", "the SNPs of the fit")
        if isinstance(Ys, list | tuple) and len(Ys) == len(self.region_names_):
            Ys = [align_columns(Y, names, f"Ys[{k}]", f"the regions of modality {k} in the fit")
                  for k, (Y, names) in enumerate(zip(Ys, self.region_names_))]
        X, Ys = check_views(X, Ys)
        fitted, given = (self.U_.shape[0], self.U_.shape[1], self.V_.shape[0]), (X.shape[1], *Ys.shape[::2])
        if fitted != given:
            raise ValueError(f"fitted on (p, K, q) = {fitted}, got data with (p, K, q) = {given}")
        return (X - self.x_mean_) / self.x_scale_, (Ys - self.y_mean_[:, None, :]) / self.y_scale_[:, None, :]

    def score(self, X, Ys) -> np.ndarray:
        """(K,) canonical correlations corr(X̃u_k, Ỹ_kv_k) on the given data."""
        X, Ys = self._standardized(X, Ys)
        return np.asarray(canonical_correlations(X, Ys, self.U_, self.V_, np.ones(X.shape[0])))

    def _check_fitted(self) -> None:
        if not hasattr(self, "U_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: call fit(X, Ys) first")
