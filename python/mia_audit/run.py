"""A finished audit, read from its run folder (the layout of the README's "What a run writes")."""

import html
import json
import math
import os
import socket
from typing import Any, Dict, List

import numpy as np


class RunNotComplete(RuntimeError):
    """A folder without the results of a finished run."""


def _percent(x: float) -> str:
    return f"{100 * x:.3g}%"


def _running(folder: str, state: Dict[str, Any]) -> str:
    """Whether a run.json left "running" is live or was interrupted, as the tool tells it: a run
    holds an flock on run.lock while it runs; without that file, the recorded pid on its host."""
    pid = state.get("pid", 0)
    lock = os.path.join(folder, "run.lock")
    held = None
    if os.path.isfile(lock):
        import fcntl
        with open(lock) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                held = False
            except BlockingIOError:
                held = True
    elif state.get("host") in (None, socket.gethostname()):
        try:
            os.kill(pid, 0)
            held = pid > 0
        except ProcessLookupError:
            held = False
        except PermissionError:
            held = True
    if held is None:
        return f"the run has not finished: process {pid} on host {state.get('host')} recorded it, which cannot be checked from here"
    if held:
        return f"the run has not finished: process {pid} is still running it"
    return (f"the run was interrupted (process {pid} is gone): it crashed or was killed; "
            "run it again to resume (finished models are kept in the store)")


class Run:
    """A finished audit: `metrics` (the parsed metrics.json), `table()`, `scores(attack)`,
    `roc(attack)`, `report_path`. In a notebook it shows its table and ROC curves."""

    def __init__(self, folder: str):
        self.folder = os.path.abspath(folder)
        # run.json (written by the tool around every run) says whether the run finished.
        state_path = os.path.join(self.folder, "run.json")
        if os.path.isfile(state_path):
            with open(state_path) as f:
                state = json.load(f)
            if state.get("state") != "complete":
                detail = f" in stage {state['stage']!r}" if state.get("stage") else ""
                if state.get("state") == "running":
                    raise RunNotComplete(f"{self.folder}: {_running(self.folder, state)}{detail}")
                raise RunNotComplete(f"{self.folder}: the run is {state.get('state')!r}{detail}, not complete"
                                     + (f": {state['error']}" if state.get("error") else ""))
        path = os.path.join(self.folder, "metrics.json")
        if not os.path.isfile(path):
            raise RunNotComplete(f"{self.folder} holds no metrics.json: not a finished mia-audit run")
        with open(path) as f:
            self.metrics: Dict[str, Any] = json.load(f)

    def __repr__(self) -> str:
        return f"Run({self.folder!r}, attacks={self.attacks})"

    @property
    def attacks(self) -> List[str]:
        """Attack labels in config order."""
        return list(self.metrics.get("attack_order") or self.metrics["attacks"].keys())

    @property
    def report_path(self) -> str:
        """The HTML report, or '' when the run wrote none (`report.html: false`)."""
        path = os.path.join(self.folder, "report.html")
        return path if os.path.isfile(path) else ""

    def _attack(self, attack: str) -> Dict[str, Any]:
        try:
            return self.metrics["attacks"][attack]
        except KeyError:
            raise KeyError(f"no attack {attack!r} in this run; it has {self.attacks}") from None

    def rows(self) -> List[Dict[str, Any]]:
        """One dict per attack: AUC with its interval, attacker advantage, TPR at each FPR; and,
        when the run has them, PPV at each prior and FPR (`ppv@FPR|prior=PI`), the target's TPR
        and FPR at the threshold chosen on reference models (`ref_tpr@FPR`, `ref_fpr@FPR`), and
        the numbers the attack chose (`offline_a`)."""
        fprs = [float(f) for f in self.metrics.get("fprs", [])]
        rows = []
        for name in self.attacks:
            a = self._attack(name)
            ci = a.get("auc_ci") or {}
            row = {"attack": name, "auc": a.get("auc"), "auc_lower": ci.get("lower"), "auc_upper": ci.get("upper"),
                   "advantage": a.get("attacker_advantage")}
            tprs = a.get("tpr_at_fpr", {})
            for fpr in fprs:
                row[f"tpr@{fpr:g}"] = _at(tprs, fpr)
            # Operating points of a real attacker, when the run computed them: PPV at each
            # membership prior, and the target's TPR / FPR at the reference-chosen threshold.
            for prior, by_fpr in sorted((a.get("ppv_at_prior") or {}).items(), key=lambda kv: float(kv[0])):
                for fpr in fprs:
                    row[f"ppv@{fpr:g}|prior={float(prior):g}"] = _at(by_fpr, fpr)
            chosen = a.get("reference_threshold") or {}
            for fpr in fprs if chosen else []:
                point = _at(chosen, fpr) or {}
                row[f"ref_tpr@{fpr:g}"] = point.get("target_tpr")
                row[f"ref_fpr@{fpr:g}"] = point.get("target_fpr")
            for key, value in sorted((a.get("reported_values") or {}).items()):
                row[key] = value
            rows.append(row)
        return rows

    def table(self):
        """The summary: a pandas DataFrame indexed by attack when pandas is installed, else a
        list of dicts (`rows()`)."""
        rows = self.rows()
        try:
            import pandas  # optional dependency
        except ImportError:
            return rows
        return pandas.DataFrame(rows).set_index("attack")

    def scores(self, attack: str) -> np.ndarray:
        """[N] f64: the attack's score of each audit record (higher means "member")."""
        self._attack(attack)
        return np.load(os.path.join(self.folder, "scores", f"{attack}.npy"))

    def evaluation_mask(self, attack: str) -> np.ndarray:
        """[N] bool: records the evaluation used (False for records the attack trained on)."""
        path = os.path.join(self.folder, "scores", f"{attack}.mask.npy")
        n = len(self.scores(attack))
        return np.load(path).astype(bool) if os.path.isfile(path) else np.ones(n, bool)

    def roc(self, attack: str) -> Dict[str, np.ndarray]:
        """The ROC curve: arrays `fpr`, `tpr`, `threshold` (ascending FPR)."""
        self._attack(attack)
        path = os.path.join(self.folder, "roc", f"{attack}.csv")
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        return {"fpr": data[:, 0], "tpr": data[:, 1], "threshold": data[:, 2]}

    # Notebook display

    def _svg_roc(self, size: int = 300) -> str:
        """Log-log ROC curves of every attack, with the chance line, as inline SVG."""
        low = 1e-3
        pad = 48
        inner = size - 2 * pad

        def pos(v: float) -> float:
            return (math.log10(max(v, low)) - math.log10(low)) / -math.log10(low) * inner

        colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 140}" height="{size}" '
                 f'font-family="sans-serif" font-size="11">',
                 f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#999"/>',
                 f'<line x1="{pad}" y1="{pad + inner}" x2="{pad + inner}" y2="{pad}" stroke="#bbb" stroke-dasharray="4"/>']
        for tick in (1e-3, 1e-2, 1e-1, 1):
            p = pos(tick)
            parts.append(f'<text x="{pad + p}" y="{size - pad + 14}" text-anchor="middle">{tick:g}</text>')
            parts.append(f'<text x="{pad - 4}" y="{pad + inner - p + 4}" text-anchor="end">{tick:g}</text>')
        parts.append(f'<text x="{pad + inner / 2}" y="{size - 6}" text-anchor="middle">false-positive rate</text>')
        parts.append(f'<text x="12" y="{pad + inner / 2}" transform="rotate(-90 12 {pad + inner / 2})" '
                     f'text-anchor="middle">true-positive rate</text>')
        for i, name in enumerate(self.attacks):
            curve = self.roc(name)
            keep = curve["fpr"] >= 0
            points = " ".join(f"{pad + pos(f):.1f},{pad + inner - pos(t):.1f}"
                              for f, t in zip(curve["fpr"][keep], curve["tpr"][keep]))
            colour = colours[i % len(colours)]
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
            parts.append(f'<text x="{size - pad + 44}" y="{pad + 14 * i + 10}" fill="{colour}">'
                         f'{html.escape(name)}</text>')
        parts.append("</svg>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        rows = self.rows()
        fpr_keys = [k for k in (rows[0] if rows else {}) if k.startswith("tpr@")]
        head = "".join(f"<th>{html.escape(h)}</th>" for h in
                       ["attack", "AUC", "95 % interval", "advantage"] + [f"TPR at {_percent(float(k[4:]))} FPR" for k in fpr_keys])
        body = []
        for r in rows:
            cells = [html.escape(r["attack"]), f"{r['auc']:.4f}",
                     "" if r["auc_lower"] is None else f"[{r['auc_lower']:.3f}, {r['auc_upper']:.3f}]",
                     "" if r["advantage"] is None else f"{r['advantage']:.3f}"]
            cells += ["" if r[k] is None else _percent(r[k]) for k in fpr_keys]
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        target = self.metrics.get("target") or {}
        caption = ""
        if target.get("train_accuracy") is not None and target.get("test_accuracy") is not None:
            caption = (f"<p>target: train accuracy {target['train_accuracy']:.4f}, "
                       f"test accuracy {target['test_accuracy']:.4f}</p>")
        report = f'<p>report: <code>{html.escape(self.report_path)}</code></p>' if self.report_path else ""
        return (f"<div><p><b>mia-audit run</b> <code>{html.escape(self.folder)}</code></p>{caption}"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                f"{self._svg_roc()}{report}</div>")


def _at(by_key: Dict[str, Any], fpr: float) -> Any:
    """The value of `by_key` (keyed by an FPR spelled as metrics.json spells it) at `fpr`."""
    return next((v for k, v in by_key.items() if math.isclose(float(k), fpr)), None)
