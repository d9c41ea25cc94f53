"""Nuclear families: inheritance of haplotypes and the expected kinship (relationship) matrix."""

from __future__ import annotations

import numpy as np

from jaxgen.data.genotypes import LDGenotypeModel

__all__ = ["family_genotypes", "family_kinship"]


def family_genotypes(rng: np.random.Generator, model: LDGenotypeModel, n: int,
                     family_size: int) -> np.ndarray:
    """(n, p) dosages for n subjects in families of two unrelated parents and their children.

    Families hold ``family_size`` members (two parents, then ``family_size − 2`` children; the last
    family may be cut short). Each child takes, per LD block independently, one of each parent's
    two haplotypes. ``family_size=1`` gives unrelated subjects.
    """
    n_families = -(-n // family_size)
    n_founders = n_families * min(family_size, 2)
    founders = model.haplotypes(rng, 2 * n_founders).reshape(n_founders, 2, -1)
    rows = []
    for f in range(n_families):
        parents = founders[f * min(family_size, 2):(f + 1) * min(family_size, 2)]
        members = [parents[i, 0] + parents[i, 1] for i in range(parents.shape[0])]
        for _ in range(family_size - 2):
            members.append(_inherit(rng, parents[0], model.block) + _inherit(rng, parents[1], model.block))
        rows.extend(members)
    return np.stack(rows[:n]).astype(float)


def _inherit(rng, parent_haplotypes, block):
    """One transmitted haplotype (p,): per block, one of the parent's two haplotypes (2, p)."""
    choice = rng.integers(0, 2, size=block[-1] + 1)[block]
    return np.where(choice == 0, parent_haplotypes[0], parent_haplotypes[1])


def family_kinship(n: int, family_size: int) -> np.ndarray:
    """(n, n) expected genetic relationship (twice the kinship coefficient).

    1 on the diagonal, ½ between a parent and a child and between full siblings, 0 between the two
    parents and across families. Positive semi-definite.
    """
    K = np.eye(n)
    for start in range(0, n, family_size):
        members = range(start, min(start + family_size, n))
        for i in members:
            for j in members:
                if i != j and (i - start >= 2 or j - start >= 2):
                    K[i, j] = 0.5
    return K
