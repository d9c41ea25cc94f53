"""Prior hyperparameters of the spatial LMM, with defaults for standardized QTs and SNPs."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Priors"]


class Priors(NamedTuple):
    """Hyperparameters (all floats).

    With standardized QTs, σ²[Q(ρ)⁻¹]_kk is about a region's residual variance (≈ 1), so:

    tau_shape, tau_rate : τ_j² ~ InvGamma(1, 0.01). A SNP's effect on a region has prior sd about
        τ_j ≈ 0.1 (mode 0.07) of the QT's residual sd, with the heavy InvGamma(1, ·) right tail
        that lets real effects escape shrinkage.
    sigma_shape, sigma_rate : σ² ~ InvGamma(1, 1), weakly informative around the unit scale.
    gamma_variance : g² = 100; covariate effects Γ rows ~ N(0, σ² g² Q⁻¹), nearly flat.
    rho_max : ρ ~ Uniform(0, 0.99); h² ~ Uniform(0, 1) when a kinship is given.
    """

    tau_shape: float = 1.0
    tau_rate: float = 0.01
    sigma_shape: float = 1.0
    sigma_rate: float = 1.0
    gamma_variance: float = 100.0
    rho_max: float = 0.99
