"""Multi-task structured sparse CCA: MTS2CCA and its comparison family on one jit-compiled engine."""

from jaxgen.cca.jcbscca import JCBSCCA
from jaxgen.cca.mts2cca import MTS2CCA
from jaxgen.cca.mtscca import MTGSCCA, MTSCCA
from jaxgen.cca.scca import SCCA
from jaxgen.cca.tcca import TCCA

__all__ = ["JCBSCCA", "MTGSCCA", "MTS2CCA", "MTSCCA", "SCCA", "TCCA"]
