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

__all__ = ["ChromosomeRelationships", "SparseKinshipWarning"]

GRM_BLOCK = 2048  # SNPs per read of the GRM pass: fixed, so that the scan's block size leaves the kinship unchanged
EFFECTIVE_SNPS_PER_SUBJECT = 50  # a GRM of fewer independent SNPs per subject corrects relatedness only in part ...
RELATED = 0.2                    # ... which matters when a pair's GRM entry is above this (second-degree relatives)
SAMPLED_PAIRS = 100_000          # pairs of subjects whose GRM entries give its noise


class SparseKinshipWarning(UserWarning):
    """The scan's GRM comes from too few SNPs to correct the relatedness of the subjects it shows."""


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

    def sparse_kinship_message(self, loco: bool) -> str | None:
        """A warning's text when the scan's GRMs (each chromosome's LOCO kinship, or the GRM of every SNP) come from
        fewer than :data:`EFFECTIVE_SNPS_PER_SUBJECT` independent SNPs per subject while the GRM of every SNP shows
        related pairs (an entry above :data:`RELATED` and 5 times the noise of unrelated pairs' entries); else None.

        A GRM of few independent SNPs (few LD blocks) is a noisy estimate of the relatedness, so the null model's
        kinship part misses some of it and related subjects' tests are inflated. The number of independent SNPs
        M_e of the GRM of every SNP is read off its entries for unrelated pairs, which vary as 1/M_e (robustly: the
        MAD of :data:`SAMPLED_PAIRS` random pairs' entries), and a LOCO kinship has its share of the SNPs. Measured
        with ``jaxgen simulate`` (families of 4, 500 subjects, LD blocks, no causal SNP) and LOCO kinships: λ_GC
        1.36–1.76 for the multi-region tests with 2 000 SNPs per kinship (M_e 1 354, 2.7 per subject; 34 regions;
        with the pedigree's kinship 0.95–1.00), 1.05–1.06 with 20 000 (about 27 per subject; 16 regions); 1.00–1.02
        in the scan calibration study (175 000 SNPs per kinship for 800 subjects)."""
        grm = self.relationship()
        n = len(grm)
        if n < 3:
            return None
        rng = np.random.default_rng(0)
        first, second = rng.integers(0, n, SAMPLED_PAIRS), rng.integers(0, n, SAMPLED_PAIRS)
        entries = grm[first[first != second], second[first != second]]
        spread = 1.4826 * np.median(np.abs(entries - np.median(entries)))
        threshold = max(RELATED, 5.0 * spread)  # unrelated pairs' noise stays below it
        related = (np.count_nonzero(grm > threshold) - np.count_nonzero(np.diagonal(grm) > threshold)) // 2
        if not related:
            return None
        total = sum(self.snps.values())
        fewest = total - max(self.snps.values()) if loco else total
        effective = fewest / total / max(spread, 1e-12) ** 2
        if effective >= EFFECTIVE_SNPS_PER_SUBJECT * n:
            return None
        kinships = "the leave-one-chromosome-out kinships come from as few as" if loco else "the GRM comes from"
        return (f"{kinships} {fewest} SNPs, about {effective:.0f} independent ones for {n} subjects (fewer than "
                f"{EFFECTIVE_SNPS_PER_SUBJECT} per subject), and {related} pairs of subjects look related (GRM > "
                f"{threshold:.2g}): such a GRM corrects relatedness only in part, and the tests of related subjects "
                "may be inflated (λ_GC 1.4–1.8 in a simulated family study with 2.7 independent SNPs per subject, "
                "1.05 with 27); give their kinship (--kinship FILE, e.g. from the pedigree or a genome-wide panel) "
                "or more SNPs")

    def relationship(self, leave_out: str | None = None) -> np.ndarray:
        """The GRM (n, n) of every chromosome but ``leave_out`` (None: of all)."""
        kept = [k for k in self.products if k != leave_out]
        if not kept:
            raise ValueError(f"no SNP outside chromosome {leave_out} to build its leave-one-chromosome-out kinship; "
                             "use --kinship grm or a kinship file")
        return relationship_from_sums(sum(self.products[k] for k in kept), sum(self.pairs[k] for k in kept))
