"""Tests of the `mia_audit` Python API, through the real `mia-audit` binary (MIA_AUDIT_BIN).

Run from the repository root after `swift build -c release`:
    MIA_AUDIT_BIN=.build/release/mia-audit python3 -m unittest discover -s python/tests -v
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import mia_audit  # noqa: E402

REPOSITORY = os.path.dirname(os.path.dirname(HERE))


def synthetic(n=400, c=5, r=4, p=200, seed=0):
    """Signals where members' true-class logits are raised: an attack finds them."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    member = rng.random(n) < 0.5
    target = rng.normal(size=(n, c))
    target[np.arange(n), labels] += 1 + member
    ref_member = np.zeros((r, n), bool)
    ref_member[0::2] = rng.random((r // 2, n)) < 0.5
    ref_member[1::2] = ~ref_member[0::2]
    ref = rng.normal(size=(r, n, c))
    ref[:, np.arange(n), labels] += 1 + ref_member
    pop_labels = rng.integers(0, c, p)
    pop = rng.normal(size=(p, c))
    pop[np.arange(p), pop_labels] += 1
    pop_ref = rng.normal(size=(r, p, c))
    pop_ref[:, np.arange(p), pop_labels] += 1
    return dict(labels=labels, target_logits=target, membership=member, reference_logits=ref,
                reference_membership=ref_member, population_labels=pop_labels,
                population_target_logits=pop, population_reference_logits=pop_ref)


def rank_auc(scores, member):
    """AUC as the probability that a member outscores a non-member (ties count half): computed
    here from the scores, independently of the tool's ROC code."""
    pos, neg = scores[member], scores[~member]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (len(pos) * len(neg))


def cross_entropy(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    return np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(labels)), labels]


@unittest.skipUnless(os.environ.get("MIA_AUDIT_BIN"), "set MIA_AUDIT_BIN to the release mia-audit binary")
class AuditTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.folder = os.path.join(self.tmp.name, "run")

    def tearDown(self):
        self.tmp.cleanup()

    def test_scores_and_metrics_agree_with_an_independent_computation(self):
        s = synthetic()
        run = mia_audit.audit(**s, attacks=["loss-threshold", ("lira", {"mode": "online"}),
                                            ("lira", {"mode": "offline"}), ("rmia", {"mode": "offline"})],
                              fprs=[0.01, 0.1], output=self.folder, progress=False)
        self.assertEqual(run.attacks, ["loss-threshold", "lira-online", "lira-offline", "rmia"])
        member = s["membership"]
        for attack in run.attacks:
            scores = run.scores(attack)
            self.assertEqual(scores.shape, (400,))
            self.assertAlmostEqual(run.metrics["attacks"][attack]["auc"], rank_auc(scores, member), places=9)
        # The loss attack ranks records by their cross-entropy loss (lower loss: member).
        loss = cross_entropy(s["target_logits"].astype(np.float32).astype(np.float64), s["labels"])
        self.assertAlmostEqual(run.metrics["attacks"]["loss-threshold"]["auc"], rank_auc(-loss, member), places=6)
        # Members were made easier to find: every attack beats chance clearly on 400 records.
        for attack in run.attacks:
            self.assertGreater(run.metrics["attacks"][attack]["auc"], 0.6)
        roc = run.roc("rmia")
        self.assertTrue(np.all(np.diff(roc["fpr"]) >= 0))
        self.assertEqual((roc["fpr"][-1], roc["tpr"][-1]), (1.0, 1.0))

    def test_table_has_the_operating_points_of_a_real_attacker(self):
        s = synthetic()
        run = mia_audit.audit(s["labels"], s["target_logits"], s["membership"], s["reference_logits"],
                              s["reference_membership"], attacks=["lira"], fprs=[0, 0.1], priors=[0.1],
                              pseudo_targets=2, output=self.folder, progress=False)
        row = run.rows()[0]
        lira = run.metrics["attacks"]["lira"]
        self.assertEqual(row["tpr@0"], lira["tpr_at_fpr"]["0.0"])
        # PPV from the ROC curve's point at FPR <= 0.1, computed here.
        roc = run.roc("lira")
        k = max(i for i in range(len(roc["fpr"])) if roc["fpr"][i] <= 0.1)
        tpr, fpr = roc["tpr"][k], roc["fpr"][k]
        self.assertAlmostEqual(row["ppv@0.1|prior=0.1"], tpr * 0.1 / (tpr * 0.1 + fpr * 0.9), places=12)
        self.assertEqual(lira["pseudo_targets"], [0, 1])
        self.assertEqual(row["ref_tpr@0.1"], lira["reference_threshold"]["0.1"]["target_tpr"])
        # The reference-chosen threshold's FPR on the target, counted here.
        threshold = lira["reference_threshold"]["0.1"]["threshold"]
        scores, member = run.scores("lira"), s["membership"]
        self.assertAlmostEqual(row["ref_fpr@0.1"], float(np.mean(scores[~member] >= threshold)), places=12)

    def test_table_has_one_row_per_attack_with_each_fpr(self):
        s = synthetic()
        run = mia_audit.audit(s["labels"], s["target_logits"], s["membership"], attacks=["loss-threshold", "entropy"],
                              fprs=[0.001, 0.1], output=self.folder, progress=False)
        rows = run.rows()
        self.assertEqual([r["attack"] for r in rows], ["loss-threshold", "entropy"])
        self.assertEqual(rows[0]["auc"], run.metrics["attacks"]["loss-threshold"]["auc"])
        self.assertEqual(rows[1]["tpr@0.1"], run.metrics["attacks"]["entropy"]["tpr_at_fpr"]["0.1"])
        table = run.table()
        try:
            import pandas
            self.assertIsInstance(table, pandas.DataFrame)
            self.assertEqual(list(table.index), ["loss-threshold", "entropy"])
            self.assertIn("tpr@0.001", table.columns)
        except ImportError:
            self.assertEqual(table, rows)
        page = run._repr_html_()
        self.assertIn("<svg", page)
        self.assertIn("entropy", page)
        self.assertTrue(run.report_path.endswith("report.html"))
        self.assertEqual(mia_audit.load_run(self.folder).metrics, run.metrics)

    def test_tensors_and_lists_are_accepted(self):
        class Tensor:  # what a torch tensor offers when numpy is reached through .numpy()
            def __init__(self, a):
                self.a = a

            def detach(self):
                return self

            def cpu(self):
                return self

            def numpy(self):
                return self.a

        s = synthetic(n=120, r=0)
        run = mia_audit.audit(s["labels"].tolist(), Tensor(s["target_logits"]), list(s["membership"]),
                              output=self.folder, progress=False)
        expected = mia_audit.audit(s["labels"], s["target_logits"], s["membership"],
                                   output=os.path.join(self.tmp.name, "second"), progress=False)
        np.testing.assert_array_equal(run.scores("loss-threshold"), expected.scores("loss-threshold"))

    def test_a_failed_run_raises_with_the_tools_message_and_exit_code(self):
        s = synthetic()
        with self.assertRaises(mia_audit.AuditError) as caught:
            mia_audit.audit(s["labels"], s["target_logits"], s["membership"], attacks=["lira"],
                            output=self.folder, progress=False)
        self.assertEqual(caught.exception.exit_code, 2)
        self.assertIn("reference", caught.exception.message)
        with self.assertRaises(mia_audit.AuditError) as caught:
            mia_audit.audit(s["labels"], s["target_logits"], s["membership"], attacks=["no-such-attack"],
                            output=os.path.join(self.tmp.name, "b"), progress=False)
        self.assertNotEqual(caught.exception.exit_code, 0)
        self.assertIn("no-such-attack", caught.exception.message)

    def test_run_config_runs_a_yaml_config(self):
        s = synthetic(n=200, r=0)
        first = mia_audit.audit(s["labels"], s["target_logits"], s["membership"], output=self.folder, progress=False)
        again = os.path.join(self.tmp.name, "again.yaml")
        with open(os.path.join(self.folder, "inputs", "audit.yaml")) as f:
            config = json.loads(f.read().split("\n", 1)[1])
        config["run"]["output"] = os.path.join(self.tmp.name, "again")
        with open(again, "w") as f:
            json.dump(config, f)
        run = mia_audit.run_config(again, progress=False)
        self.assertEqual(run.folder, config["run"]["output"])
        np.testing.assert_array_equal(run.scores("loss-threshold"), first.scores("loss-threshold"))


class InputTests(unittest.TestCase):
    """Checks that run before anything is written or any binary is needed."""

    def refuse(self, message, **overrides):
        s = synthetic(n=50, r=2, p=20)
        s.update(overrides)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            with self.assertRaises(mia_audit.InputError) as caught:
                mia_audit.audit(**s, output=out, progress=False)
            self.assertFalse(os.path.exists(out), "nothing is written before every check passed")
        self.assertIn(message, str(caught.exception))

    def test_shapes_are_named_with_what_was_expected(self):
        s = synthetic(n=50, r=2, p=20)
        self.refuse("`labels`: expected shape [N] = [50], got [49]", labels=s["labels"][:49])
        self.refuse("`reference_logits`: expected shape [R, N, C] = [2, 50, 5], got [2, 50, 4]",
                    reference_logits=s["reference_logits"][:, :, :4])
        self.refuse("`reference_membership`: expected shape [R, N] = [2, 50], got [3, 50]",
                    reference_membership=np.zeros((3, 50), bool))
        self.refuse("`population_reference_logits`: expected shape [R, P, C] = [2, 20, 5]",
                    population_reference_logits=s["population_reference_logits"][:, :10])

    def test_membership_is_a_mask_never_a_guessed_index_list(self):
        self.refuse("`membership`: entry [3] is 2", membership=np.array([0, 1, 0, 2] + [0] * 46))
        self.refuse("`membership`: expected shape [N] = [50], got [10]", membership=np.arange(10))

    def test_values_are_checked(self):
        s = synthetic(n=50, r=2, p=20)
        bad = s["target_logits"].copy()
        bad[7, 2] = np.nan
        self.refuse("`target_logits`: entry [7, 2] is nan", target_logits=bad)
        labels = s["labels"].copy()
        labels[4] = 9
        self.refuse("`labels`: entry 4 is 9, outside the 5 classes", labels=labels)
        self.refuse("`labels`: expected integer class labels", labels=s["labels"] + 0.5)
        self.refuse("go together", reference_membership=None)

    def test_a_run_that_did_not_complete_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "metrics.json"), "w") as f:
                json.dump({"attacks": {}, "attack_order": []}, f)
            with open(os.path.join(tmp, "run.json"), "w") as f:
                json.dump({"state": "failed", "stage": "attacks", "error": "boom"}, f)
            with self.assertRaises(mia_audit.RunNotComplete) as caught:
                mia_audit.load_run(tmp)
            self.assertIn("failed", str(caught.exception))
            self.assertIn("attacks", str(caught.exception))
            with open(os.path.join(tmp, "run.json"), "w") as f:
                json.dump({"state": "complete"}, f)
            self.assertEqual(mia_audit.load_run(tmp).attacks, [])

    def test_a_run_left_running_is_told_live_or_interrupted(self):
        import fcntl
        import subprocess
        with tempfile.TemporaryDirectory() as tmp:
            # A process that has ended: its pid is gone (it was reaped), as after kill -9.
            gone = subprocess.Popen(["true"])
            gone.wait()
            with open(os.path.join(tmp, "run.json"), "w") as f:
                json.dump({"state": "running", "stage": "train models", "pid": gone.pid}, f)
            with self.assertRaises(mia_audit.RunNotComplete) as caught:
                mia_audit.load_run(tmp)
            self.assertIn(f"interrupted (process {gone.pid} is gone)", str(caught.exception))
            self.assertIn("train models", str(caught.exception))
            # With run.lock, its flock decides, whatever the pid: free means interrupted ...
            with open(os.path.join(tmp, "run.json"), "w") as f:
                json.dump({"state": "running", "stage": "attacks", "pid": os.getpid()}, f)
            lock_path = os.path.join(tmp, "run.lock")
            open(lock_path, "w").close()
            with self.assertRaises(mia_audit.RunNotComplete) as caught:
                mia_audit.load_run(tmp)
            self.assertIn(f"interrupted (process {os.getpid()} is gone)", str(caught.exception))
            # ... and held means the run is live.
            with open(lock_path) as holder:
                fcntl.flock(holder, fcntl.LOCK_EX)
                with self.assertRaises(mia_audit.RunNotComplete) as caught:
                    mia_audit.load_run(tmp)
            self.assertIn(f"process {os.getpid()} is still running it", str(caught.exception))

    def test_a_missing_binary_names_both_places_it_looks(self):
        saved = dict(os.environ)
        try:
            os.environ.pop("MIA_AUDIT_BIN", None)
            os.environ["PATH"] = "/nonexistent"
            with self.assertRaises(mia_audit.BinaryNotFound) as caught:
                mia_audit.find_binary()
            self.assertIn("MIA_AUDIT_BIN", str(caught.exception))
            self.assertIn("PATH", str(caught.exception))
            self.assertIn("From Python", str(caught.exception))
        finally:
            os.environ.clear()
            os.environ.update(saved)


@unittest.skipUnless(os.environ.get("MIA_AUDIT_BIN"), "set MIA_AUDIT_BIN to the release mia-audit binary")
class ExampleTests(unittest.TestCase):
    def test_the_scikit_learn_example_runs(self):
        try:
            import sklearn  # noqa: F401
        except ImportError:
            self.skipTest("scikit-learn is not installed (scripts/test.sh installs it in the test venv)")
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run(
                [sys.executable, os.path.join(REPOSITORY, "examples", "python", "audit_sklearn.py"),
                 "--output", os.path.join(tmp, "run"), "--records", "600", "--references", "2"],
                capture_output=True, text=True, timeout=600)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("lira-offline", result.stdout)
            with open(os.path.join(tmp, "run", "metrics.json")) as f:
                metrics = json.load(f)
            self.assertEqual(metrics["attack_order"], ["loss-threshold", "lira-online", "lira-offline"])


if __name__ == "__main__":
    unittest.main()
