"""`audit` (arrays in, a `Run` out), `run_config` and `load_run`."""

import json
import os
import re
import tempfile
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _arrays
from ._arrays import InputError
from ._binary import run_tool
from .run import Run

AttackSpec = Union[str, Tuple[str, Dict[str, Any]], Dict[str, Any]]


def _attack_entries(attacks: Sequence[AttackSpec]) -> List[Dict[str, Any]]:
    """Config entries for `attacks`: names, (name, options) pairs or full config dicts
    ({"plugin": ..., "name": ..., "options": ...}). Two entries of one plugin get distinct labels:
    `lira-online`, `lira-offline` when their options name a `mode`, else `lira-2`, ..."""
    if isinstance(attacks, (str, bytes)) or not isinstance(attacks, Iterable):
        raise InputError("`attacks`: expected a list of attack names or (name, options) pairs")
    entries = []
    for i, spec in enumerate(attacks):
        if isinstance(spec, str):
            entry = {"plugin": spec}
        elif isinstance(spec, dict):
            if "plugin" not in spec:
                raise InputError(f"`attacks[{i}]`: a dict entry needs a `plugin` key")
            entry = dict(spec)
        elif isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str) \
                and isinstance(spec[1], dict):
            entry = {"plugin": spec[0], "options": dict(spec[1])}
        else:
            raise InputError(f"`attacks[{i}]`: expected a name, a (name, options) pair or a dict, got {spec!r}")
        entries.append(entry)
    counts: Dict[str, int] = {}
    for e in entries:
        counts[e["plugin"]] = counts.get(e["plugin"], 0) + 1
    used = set()
    for e in entries:
        if "name" in e:
            label = e["name"]
        elif counts[e["plugin"]] > 1 and isinstance(e.get("options", {}).get("mode"), str):
            label = f"{e['plugin']}-{e['options']['mode']}"
        else:
            label = e["plugin"]
        base, k = label, 2
        while label in used:
            label, k = f"{base}-{k}", k + 1
        used.add(label)
        if label != e["plugin"]:
            e["name"] = label
    return entries


def _check_finite_list(name: str, values: Sequence[float]) -> List[float]:
    out = []
    for v in values:
        f = float(v)
        if not np.isfinite(f):
            raise InputError(f"`{name}`: {v!r} is not a finite number")
        out.append(f)
    return out


def audit(labels, target_logits, membership,
          reference_logits=None, reference_membership=None,
          population_labels=None, population_target_logits=None, population_reference_logits=None,
          attacks: Sequence[AttackSpec] = ("loss-threshold",),
          fprs: Sequence[float] = (0.001, 0.01, 0.1),
          priors: Optional[Sequence[float]] = None,
          pseudo_targets: Optional[int] = None,
          slices: Sequence[str] = (),
          output: Optional[str] = None,
          seed: int = 1,
          bootstrap_samples: Optional[int] = None,
          report: bool = True,
          progress: bool = True,
          name: str = "python-audit") -> Run:
    """Audits a model from its outputs: N audit records with `labels` [N] and the target's
    `target_logits` [N, C] (raw logits or log-probabilities), and `membership` [N] (bool or 0/1:
    1 = the record was in the target's training set).

    Reference-model attacks (LiRA, RMIA, reference-threshold) need `reference_logits` [R, N, C]
    and `reference_membership` [R, N]; RMIA also a population of non-members:
    `population_labels` [P], `population_target_logits` [P, C] and, with reference models,
    `population_reference_logits` [R, P, C].

    `fprs` may hold 0 (the TPR above every non-member's score); `priors` (default [0.01, 0.1])
    are the membership priors of the PPV rows, and `pseudo_targets` (default 4) how many
    reference models are attacked as the target to choose thresholds without the target's
    membership (configs/README.md, `audit.priors`, `audit.pseudo_targets`).

    `attacks` takes names (`"lira"`) or (name, options) pairs (`("lira", {"mode": "offline"})`);
    `mia-audit plugins describe NAME` lists an attack's options. The run goes to `output` (a new
    temporary folder when None) and is returned as a `Run`. Every array is checked before
    anything is written; an error names the argument and the shape it expected. A failed run
    raises `mia_audit.AuditError` with the tool's message and exit code.
    """
    # Check everything first.
    target = _arrays.as_array("target_logits", target_logits)
    if target.ndim != 2:
        raise InputError(f"`target_logits`: expected shape [N, C], got {list(target.shape)}")
    n, c = target.shape
    if c < 2:
        raise InputError(f"`target_logits`: expected at least 2 classes (columns), got {c}")
    arrays = {
        "labels": _arrays.labels("labels", labels, n, c),
        "target_logits": _arrays.logits("target_logits", target, [n, c], "N, C"),
        "target_membership": _arrays.mask("membership", membership, [n], "N"),
    }
    if (reference_logits is None) != (reference_membership is None):
        raise InputError("`reference_logits` and `reference_membership` go together: give both or neither")
    r = None
    if reference_logits is not None:
        ref = _arrays.as_array("reference_logits", reference_logits)
        if ref.ndim != 3:
            raise InputError(f"`reference_logits`: expected shape [R, N, C] = [?, {n}, {c}], got {list(ref.shape)}")
        r = ref.shape[0]
        arrays["reference_logits"] = _arrays.logits("reference_logits", ref, [r, n, c], "R, N, C")
        arrays["reference_membership"] = _arrays.mask("reference_membership", reference_membership, [r, n], "R, N")
    if population_target_logits is not None or population_labels is not None:
        if population_target_logits is None or population_labels is None:
            raise InputError("`population_labels` and `population_target_logits` go together: give both or neither")
        pop = _arrays.as_array("population_target_logits", population_target_logits)
        if pop.ndim != 2:
            raise InputError(f"`population_target_logits`: expected shape [P, C] = [?, {c}], got {list(pop.shape)}")
        p = pop.shape[0]
        arrays["population_labels"] = _arrays.labels("population_labels", population_labels, p, c)
        arrays["population_target_logits"] = _arrays.logits("population_target_logits", pop, [p, c], "P, C")
        if population_reference_logits is not None:
            if r is None:
                raise InputError("`population_reference_logits` needs `reference_logits` (the same R models)")
            arrays["population_reference_logits"] = _arrays.logits(
                "population_reference_logits", population_reference_logits, [r, p, c], "R, P, C")
        elif r is not None and r > 0:
            raise InputError(f"`population_reference_logits` [R, P, C] = [{r}, {p}, {c}] is needed with reference models "
                             "and a population (RMIA reads both)")
    elif population_reference_logits is not None:
        raise InputError("`population_reference_logits` needs `population_labels` and `population_target_logits`")
    entries = _attack_entries(attacks)
    fpr_values = _check_finite_list("fprs", fprs)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in (".", ".."):
        raise InputError(f"`name`: {name!r} must be letters, digits, '-', '_' or '.'")

    # Then write: the signals layout in <output>/inputs/signals, the config beside it.
    folder = os.path.abspath(output) if output else tempfile.mkdtemp(prefix="mia-audit-")
    inputs = os.path.join(folder, "inputs")
    signals = os.path.join(inputs, "signals")
    os.makedirs(signals, exist_ok=True)
    for key, array in arrays.items():
        np.save(os.path.join(signals, f"{key}.npy"), array)
    audit_section: Dict[str, Any] = {"fprs": fpr_values, "slices": list(slices), "attacks": entries}
    if bootstrap_samples is not None:
        audit_section["bootstrap_samples"] = int(bootstrap_samples)
    if priors is not None:
        audit_section["priors"] = _check_finite_list("priors", priors)
    if pseudo_targets is not None:
        audit_section["pseudo_targets"] = int(pseudo_targets)
    config = {
        "run": {"name": name, "output": folder, "seed": int(seed)},
        "signals": {"path": signals},
        "audit": audit_section,
        "report": {"html": bool(report)},
    }
    config_path = os.path.join(inputs, "audit.yaml")
    with open(config_path, "w") as f:
        f.write("# Written by mia_audit.audit: a YAML config (JSON is YAML).\n")
        json.dump(config, f, indent=2)
        f.write("\n")
    run_tool(["run", config_path, "--quiet"], progress=progress)
    return Run(folder)


def run_config(path: str, progress: bool = True, extra_arguments: Sequence[str] = ()) -> Run:
    """Runs the YAML config at `path` (`mia-audit run PATH`) and returns its `Run`. A config with
    a `sweep:` is a study: use the command line for those."""
    stdout = run_tool(["run", os.path.abspath(path)] + list(extra_arguments), progress=progress)
    match = re.search(r"^results:\s*(.+)$", stdout, re.MULTILINE)
    if not match:
        raise InputError(f"{path}: the run printed no results folder (a study? use `mia-audit study`)")
    return Run(match.group(1).strip())


def load_run(folder: str) -> Run:
    """Opens a finished run's folder."""
    return Run(folder)
