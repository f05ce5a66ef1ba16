"""mia_audit: membership-inference audits from Python, over the `mia-audit` engine.

    import mia_audit
    run = mia_audit.audit(labels, target_logits, membership,
                          reference_logits=ref_logits, reference_membership=ref_membership,
                          attacks=["loss-threshold", ("lira", {"mode": "offline"})])
    run.table()          # AUC, advantage, TPR at each FPR (a DataFrame with pandas)
    run.scores("lira")   # [N] scores, higher means "member"
    run                  # in a notebook: the table and the ROC curves

The arrays are written in the layout of a run's `signals/` folder and the `mia-audit` binary
(`MIA_AUDIT_BIN`, else `PATH`) runs the audit: the numbers are the command line's.
"""

from ._arrays import InputError
from ._binary import AuditError, BinaryNotFound, find_binary
from .audit import audit, load_run, run_config
from .run import Run, RunNotComplete

__version__ = "0.1.0"
__all__ = ["audit", "run_config", "load_run", "Run", "AuditError", "InputError", "BinaryNotFound",
           "RunNotComplete", "find_binary", "__version__"]
