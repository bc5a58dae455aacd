"""Bayes-optimal loss of decision pretraining on DPT's Gaussian bandit (preset dpt-gaussian).

The label of every step is the optimal arm; its context is i.i.d. pulls from the Dirichlet mixture
of src/algos/dirichlet-iid.ts (cov uniform on {0, 0.1, ..., 1}, p = (1 - cov) Dir(1) + cov onehot).
No model can reach a cross-entropy below that of the exact posterior P(a* = a | the pulls so far),
which this script computes on a grid (arm means ~ U[0, 1] independently, reward = mean + N(0, 0.3²)):
each arm's posterior density on the grid, then P(a is best) = Σ_g w_a(g) Π_{b≠a} F_b(g).
The numbers to compare with a training run's loss are the means over positions 1..h, for the
curriculum's prefix length h and for the whole horizon.

    python3 scripts/dpt_gaussian_bayes_loss.py [--tasks 1000] [--horizon 500] [--seed 0]
"""
import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--horizon", type=int, default=500)
    ap.add_argument("--arms", type=int, default=5)
    ap.add_argument("--noise", type=float, default=0.3)
    ap.add_argument("--grid", type=int, default=401)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    N, A, T, sig = a.tasks, a.arms, a.horizon, a.noise
    g = np.linspace(0.0, 1.0, a.grid)
    mu = rng.uniform(size=(N, A))
    best = mu.argmax(1)
    cov = rng.integers(11, size=N) / 10
    p = (1 - cov)[:, None] * rng.dirichlet(np.ones(A), size=N)
    p[np.arange(N), rng.integers(A, size=N)] += cov
    acts = np.array([rng.choice(A, size=T, p=pi) for pi in p])
    rew = mu[np.arange(N)[:, None], acts] + sig * rng.normal(size=(N, T))
    n = np.zeros((N, A))
    s = np.zeros((N, A))
    loss = np.zeros(T)
    for t in range(T):  # the label at position t sees the t pulls before it
        if t > 0:
            n[np.arange(N), acts[:, t - 1]] += 1
            s[np.arange(N), acts[:, t - 1]] += rew[:, t - 1]
        ll = -(n[..., None] * g**2 - 2 * s[..., None] * g) / (2 * sig**2)
        w = np.exp(ll - ll.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        logF = np.log(np.maximum(np.cumsum(w, -1), 1e-300))
        others = logF.sum(1, keepdims=True) - logF  # log Π_{b≠a} F_b(g)
        P = (w * np.exp(others)).sum(-1)
        P /= P.sum(1, keepdims=True)
        loss[t] = -np.log(np.maximum(P[np.arange(N), best], 1e-12)).mean()
    for h in sorted({50, 100, 200, T} & set(range(1, T + 1))):
        print(f"mean Bayes-optimal cross-entropy over positions 1..{h}: {loss[:h].mean():.4f}")
    print(f"at position 1: {loss[0]:.4f} (ln {A} = {np.log(A):.4f}); at position {T}: {loss[-1]:.4f}")


if __name__ == "__main__":
    main()
