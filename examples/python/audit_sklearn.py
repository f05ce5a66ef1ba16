"""Audit a scikit-learn model from Python: train it on a CSV, train its reference models, and
ask mia-audit how well the loss attack and LiRA tell its training records from the others.

    pip install ./python scikit-learn pandas     # from the repository root
    swift build -c release                       # the engine
    MIA_AUDIT_BIN=.build/release/mia-audit python3 examples/python/audit_sklearn.py [--csv FILE]

The CSV holds one record per line: a label column (`--label-column`, default `label`) and numeric
feature columns. Without `--csv`, one is written from the first Fashion-MNIST records (Debian
package dataset-fashion-mnist), pooled to 14x14 pixels.
"""

import argparse
import gzip
import os
import sys

import numpy as np
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import mia_audit  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"


def write_fashion_csv(path: str, records: int) -> None:
    """A CSV of the first `records` Fashion-MNIST training images, 2x2-pooled, scaled to [0, 1]."""
    with gzip.open(os.path.join(FASHION, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:records]
    with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:records]
    pooled = images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)) / 255.0
    header = "label," + ",".join(f"p{i}" for i in range(196))
    rows = np.column_stack([labels, pooled.reshape(len(labels), -1)])
    np.savetxt(path, rows, delimiter=",", header=header, comments="", fmt=["%d"] + ["%.4f"] * 196)


def read_csv(path: str, label_column: str):
    with open(path) as f:
        header = f.readline().strip().split(",")
    if label_column not in header:
        sys.exit(f"{path}: no column `{label_column}` (columns: {', '.join(header[:8])}, ...)")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    column = header.index(label_column)
    labels = data[:, column].astype(np.int64)
    features = np.delete(data, column, axis=1).astype(np.float32)
    return features, labels


def log_probabilities(model, features, classes):
    """[n, classes] log-probabilities (logits for the audit), columns in class order."""
    proba = np.zeros((len(features), classes))
    proba[:, model.classes_] = model.predict_proba(features)
    return np.log(np.clip(proba, 1e-12, 1.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", help="the data (default: made from Fashion-MNIST)")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--records", type=int, default=2000, help="audit records (each model trains on half)")
    parser.add_argument("--references", type=int, default=8, help="reference models (even)")
    parser.add_argument("--output", default="runs/python-example")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    csv = args.csv
    if csv is None:
        os.makedirs(args.output, exist_ok=True)
        csv = os.path.join(args.output, "fashion.csv")
        write_fashion_csv(csv, args.records)
    features, labels = read_csv(csv, args.label_column)
    features, labels = features[:args.records], labels[:args.records]
    n, classes = len(labels), int(labels.max()) + 1
    rng = np.random.default_rng(args.seed)

    def train(member):
        model = MLPClassifier(hidden_layer_sizes=(128,), max_iter=200, random_state=int(rng.integers(2**31)))
        model.fit(features[member], labels[member])
        return log_probabilities(model, features, classes)

    # The target trains on a random half; each reference pair splits the records both ways, so
    # every record is IN for half of the reference models (what LiRA online needs).
    membership = rng.random(n) < 0.5
    print(f"training the target on {membership.sum()} of {n} records", file=sys.stderr)
    target_logits = train(membership)
    reference_membership = np.zeros((args.references, n), bool)
    reference_logits = np.zeros((args.references, n, classes), np.float32)
    for r in range(0, args.references, 2):
        half = rng.random(n) < 0.5
        reference_membership[r], reference_membership[r + 1] = half, ~half
    for r in range(args.references):
        print(f"training reference model {r + 1}/{args.references}", file=sys.stderr)
        reference_logits[r] = train(reference_membership[r])

    run = mia_audit.audit(labels, target_logits, membership,
                          reference_logits=reference_logits, reference_membership=reference_membership,
                          attacks=["loss-threshold", ("lira", {"mode": "online"}), ("lira", {"mode": "offline"})],
                          output=args.output, seed=args.seed)
    table = run.table()
    print(table.to_string() if hasattr(table, "to_string") else table)
    print(f"report: {run.report_path}")


if __name__ == "__main__":
    main()
