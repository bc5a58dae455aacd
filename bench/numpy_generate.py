#!/usr/bin/python3
"""numpy side of the dataset-generation benchmark (bench/run.ts): the generator of
`icrl generate --env lin-linear --context linucb --label ad` re-implemented in numpy, the way a
Python user (or the anchors' collect_data.py) would write it, one task at a time:

  task:    w* ~ U[0,1]^d, action set ~ U[-1,1]^{A x d}, rewards <a, w*> + N(0, sigma^2)
  context: LinUCB (lambda = 1, alpha = 2; first step uniform; V^{-1} by Sherman-Morrison)
  labels:  AD = the context algorithm's actions
  output:  the same columns as icrl's shards (.npy): actions, rewards, labels, optimal_arm,
           action_set, arm_means

    /usr/bin/python3 bench/numpy_generate.py --tasks 500 --horizon 200 --out /tmp/npgen

Prints one JSON line: {"ms_per_task": ..., "seconds": ..., "peak_rss_mb": ...}.
"""
import argparse
import json
import os
import resource
import time

import numpy as np


def linucb_rollout(rng, action_set, w, T, sigma, alpha=2.0, lam=1.0):
    A, d = action_set.shape
    Vinv = np.eye(d) / lam
    b = np.zeros(d)
    actions = np.zeros(T, dtype=np.int32)
    rewards = np.zeros(T, dtype=np.float32)
    means = action_set @ w
    for t in range(T):
        if t == 0:
            a = rng.integers(A)
        else:
            theta = Vinv @ b
            bonus = np.sqrt(np.maximum(0.0, np.einsum("kd,de,ke->k", action_set, Vinv, action_set)))
            a = int(np.argmax(action_set @ theta + alpha * bonus))
        x = action_set[a]
        r = means[a] + rng.normal(0.0, sigma)
        Vx = Vinv @ x
        Vinv -= np.outer(Vx, Vx) / (1.0 + x @ Vx)
        b += r * x
        actions[t] = a
        rewards[t] = r
    return actions, rewards


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--horizon", type=int, default=200)
    ap.add_argument("--arms", type=int, default=10)
    ap.add_argument("--dim", type=int, default=5)
    ap.add_argument("--noise", type=float, default=1.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1, help="unused (one process; OPENBLAS_NUM_THREADS is set by the caller)")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n, T, A, d = a.tasks, a.horizon, a.arms, a.dim
    t0, c0 = time.perf_counter(), time.process_time()
    cols = {
        "actions": np.zeros((n, T), np.int32), "rewards": np.zeros((n, T), np.float32), "labels": np.zeros((n, T), np.int32),
        "optimal_arm": np.zeros(n, np.int32), "action_set": np.zeros((n, A, d), np.float32), "arm_means": np.zeros((n, A), np.float32),
    }
    for i in range(n):
        w = rng.uniform(0, 1, d)
        action_set = rng.uniform(-1, 1, (A, d))
        acts, rews = linucb_rollout(rng, action_set, w, T, a.noise)
        cols["actions"][i] = acts
        cols["rewards"][i] = rews
        cols["labels"][i] = acts
        cols["optimal_arm"][i] = int(np.argmax(action_set @ w))
        cols["action_set"][i] = action_set
        cols["arm_means"][i] = action_set @ w
    os.makedirs(a.out, exist_ok=True)
    for k, v in cols.items():
        np.save(os.path.join(a.out, f"{k}.npy"), v)
    s = time.perf_counter() - t0
    c = time.process_time() - c0
    print(json.dumps({"ms_per_task": 1000 * s / n, "cpu_ms_per_task": 1000 * c / n, "seconds": s, "tasks": n, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
