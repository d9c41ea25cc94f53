"""Multi-task structured sparse CCA: MTS2CCA and its comparison family on one jit-compiled engine.

Estimators (scikit-learn conventions): MTS2CCA, MTSCCA, MTGSCCA, SCCA (reweighting engine),
JCBSCCA (its authors' published iterations), TCCA (tensor ALS). Tools: cross_validate (one compiled
computation over grid × folds), permutation_test (compiled batches of refits), selection_auc.
"""

from jaxgen.cca.cv import CVResult, NestedCVResult, cross_validate
from jaxgen.cca.jcbscca import JCBSCCA
from jaxgen.cca.metrics import selection_auc
from jaxgen.cca.mts2cca import MTS2CCA
from jaxgen.cca.mtscca import MTGSCCA, MTSCCA
from jaxgen.cca.permutation import PermutationResult, permutation_test
from jaxgen.cca.scca import SCCA
from jaxgen.cca.tcca import TCCA

__all__ = ["CVResult", "JCBSCCA", "MTGSCCA", "MTS2CCA", "MTSCCA", "NestedCVResult", "PermutationResult", "SCCA",
           "TCCA", "cross_validate", "permutation_test", "selection_auc"]
