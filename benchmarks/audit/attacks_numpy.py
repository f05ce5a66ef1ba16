"""The attacks and the evaluation of the lean reference audit, numpy only, straight from the papers.

Shared by torch_audit.py (W1/W2) and crosscheck.py (these formulas on a mia-audit run's own
signals, compared with its scores). Formulas: see torch_audit.py's docstring.
"""

import math

import numpy as np

FPRS = [0.001, 0.01, 0.1]
GAMMA = 2.0
OFFLINE_A = 0.3


# --- signals ---------------------------------------------------------------------------------

def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def true_class(a, y):
    """a[..., i, y_i] for arrays [..., N, C]."""
    return np.take_along_axis(a, np.broadcast_to(y[:, None], a.shape[:-1] + (1,)), axis=-1)[..., 0]


def lira_phi(z, y):
    """z_y - logsumexp_{j != y} z_j, stable where p_y rounds to 1."""
    zy = true_class(z, y)
    masked = z.copy()
    np.put_along_axis(masked, np.broadcast_to(y[:, None], z.shape[:-1] + (1,)), -np.inf, axis=-1)
    m = masked.max(axis=-1, keepdims=True)
    return zy - (m[..., 0] + np.log(np.exp(masked - m).sum(axis=-1)))


# --- attacks ---------------------------------------------------------------------------------

def pooled_variance(phi, mask):
    """Sum_i Sum_r (phi_ri - mu_i)^2 / Sum_i (k_i - 1) over the entries where mask is true."""
    k = mask.sum(axis=0)
    mu = np.where(k > 0, (phi * mask).sum(axis=0) / np.maximum(k, 1), 0.0)
    ss = (((phi - mu) ** 2) * mask).sum()
    return max(ss / max((k - 1).clip(min=0).sum(), 1), 1e-8), mu, k


def lira(phi_t, phi_r, member_r, online):
    var_out, mu_out, k_out = pooled_variance(phi_r, member_r == 0)
    if not online:
        return (phi_t - mu_out) / math.sqrt(var_out)
    var_in, mu_in, k_in = pooled_variance(phi_r, member_r == 1)
    assert (k_in > 0).all() and (k_out > 0).all()
    def log_normal(x, mu, var):
        return -0.5 * (x - mu) ** 2 / var - 0.5 * math.log(2 * math.pi * var)
    return log_normal(phi_t, mu_in, var_in) - log_normal(phi_t, mu_out, var_out)


def rmia(p_t, p_r, member_r, pop_p_t, pop_p_r, online):
    out = member_r == 0
    p_out = (p_r * out).sum(axis=0) / out.sum(axis=0)
    if online:
        inn = ~out
        p_in = (p_r * inn).sum(axis=0) / inn.sum(axis=0)
        pr_x = 0.5 * (p_in + p_out)
        pr_z = pop_p_r.mean(axis=0)
    else:
        pr_x = 0.5 * ((1 + OFFLINE_A) * p_out + (1 - OFFLINE_A))
        pr_z = 0.5 * ((1 + OFFLINE_A) * pop_p_r.mean(axis=0) + (1 - OFFLINE_A))
    ratio_x = np.log(p_t) - np.log(pr_x)
    ratio_z = np.sort(np.log(pop_p_t) - np.log(pr_z))
    # ratio_x - ratio_z > log gamma  <=>  ratio_z < ratio_x - log gamma
    return np.searchsorted(ratio_z, ratio_x - math.log(GAMMA), side="left") / ratio_z.size


# --- evaluation ------------------------------------------------------------------------------

def evaluate(scores, member):
    pos, neg = int(member.sum()), int((1 - member).sum())
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(s.size)
    # average ranks over ties
    bounds = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [s.size]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    auc = (ranks[member == 1].sum() - pos * (pos + 1) / 2) / (pos * neg)
    # ROC: thresholds at each distinct score, descending
    desc = order[::-1]
    m = member[desc]
    sd = scores[desc]
    last = np.concatenate([np.flatnonzero(np.diff(sd)), [sd.size - 1]])
    tpr = np.concatenate([[0.0], np.cumsum(m)[last] / pos])
    fpr = np.concatenate([[0.0], np.cumsum(1 - m)[last] / neg])
    tprs = {str(a): float(tpr[fpr <= a * (1 + 1e-12)].max()) for a in FPRS}
    return {"auc": float(auc), "tpr_at_fpr": tprs}
