"""Genomic relationship matrices built block by block: the GRM of every SNP, and leave-one-chromosome-out.

One pass over the genome accumulates, per chromosome, the two sums of the GRM
(:func:`jaxgen.graphs.relationship_sums`: ΣZZᵀ and the pair counts N); the GRM of any set of
chromosomes is then the ratio of their sums. LOCO for chromosome k is (S − S_k) / (N − N_k): the same
matrix PLINK's ``--make-rel`` gives on the other chromosomes' SNPs, with 2 (n, n) arrays kept per chromosome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from jaxgen.graphs import relationship_from_sums, relationship_sums
from jaxgen.io.genotype_source import GenotypeSource, as_slice

__all__ = ["ChromosomeRelationships"]

GRM_BLOCK = 2048  # SNPs per read of the GRM pass: fixed, so that the scan's block size leaves the kinship unchanged


@dataclass(frozen=True)
class ChromosomeRelationships:
    """Per chromosome, the sums of the GRM: products[k] = Σ z zᵀ (n, n), pairs[k] = N (n, n), snps[k] = count."""

    products: dict[str, np.ndarray]
    pairs: dict[str, np.ndarray]
    snps: dict[str, int]

    @classmethod
    def accumulate(cls, fileset: GenotypeSource, rows: np.ndarray, snp_indices: np.ndarray | None = None,
                   on_block: Callable[[int], None] | None = None, dtype=np.float64) -> ChromosomeRelationships:
        """Read the fileset (``snp_indices``, default its selection) in blocks of :data:`GRM_BLOCK` SNPs, QC'd
        as read_plink does, and sum each chromosome's GRM parts over the subjects ``rows`` (n,) (founders'
        allele frequencies). The sums' rounding depends on the blocks, and the REML fit amplifies it to ~1e-8,
        which is why their size is fixed. ``on_block`` is called with the number of SNPs of each block read; ``dtype``:
        of each block's products (:func:`jaxgen.graphs.relationship_sums`; the sums are float64)."""
        products, pairs, snps = {}, {}, {}
        every_row = np.array_equal(rows, np.arange(len(fileset.subject_ids)))  # the fileset's subjects in order: no copy
        for block, counts in fileset.blocks(GRM_BLOCK, snp_indices):
            if on_block is not None:
                on_block(counts.kept + len(counts.monomorphic) + len(counts.rare))
            frequency = block.snps["a1_frequency"].to_numpy()
            chromosomes = block.snps["chromosome"].to_numpy()
            dosages, missing = (block.dosages, block.missing) if every_row else (block.dosages[rows], block.missing[rows])
            for chromosome in dict.fromkeys(chromosomes):
                on_chromosome = np.flatnonzero(chromosomes == chromosome)
                columns = as_slice(on_chromosome)  # a view when they are one run, as in a sorted .bim
                product, pair = relationship_sums(dosages[:, columns], frequency=frequency[columns],
                                                  called=~missing[:, columns], dtype=dtype)
                if chromosome in products:
                    products[chromosome] += product
                    pairs[chromosome] += pair
                else:
                    products[chromosome], pairs[chromosome] = product, pair
                snps[chromosome] = snps.get(chromosome, 0) + len(on_chromosome)
        return cls(products, pairs, snps)

    def relationship(self, leave_out: str | None = None) -> np.ndarray:
        """The GRM (n, n) of every chromosome but ``leave_out`` (None: of all)."""
        kept = [k for k in self.products if k != leave_out]
        if not kept:
            raise ValueError(f"no SNP outside chromosome {leave_out} to build its leave-one-chromosome-out kinship; "
                             "use --kinship grm or a kinship file")
        return relationship_from_sums(sum(self.products[k] for k in kept), sum(self.pairs[k] for k in kept))
