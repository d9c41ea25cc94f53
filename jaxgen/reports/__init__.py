"""Analysis outputs on disk: tables, plots and a Markdown report per method."""

from jaxgen.reports.cca import write_cca_outputs
from jaxgen.reports.lmm import write_lmm_outputs
from jaxgen.reports.scan import write_scan_outputs

__all__ = ["write_cca_outputs", "write_lmm_outputs", "write_scan_outputs"]
