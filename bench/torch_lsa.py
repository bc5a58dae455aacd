#!/usr/bin/python3
"""PyTorch side of the LSA teacher-mimicking benchmark (bench/run.ts): one training step
(forward, backward, Adam) of one linear self-attention layer on a batch of prompts, with the
shapes of `icrl lsa mimic` defaults (SARSA teacher, 5 states x 3 actions one-hot: d = 15,
D = 3d + 2 = 47, n = 50 context columns + 1 query column, batch 32):

  Z' = Z + (1/n) P Z M Z^T Q Z      (M = diag(1, ..., 1, 0): the query column is not context)
  loss = mean_b || Z'[R, query] - target ||^2,  R = the parameter rows [r0, r0 + d)

Two forms are timed: "full" computes Z' for every column as the anchors' code (Wang et al.'s
InContextTD) writes the layer; "query" computes only the query column, (1/n) P (Z M Z^T) Q z_q.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_lsa.py --steps 50 --threads 1

Prints one JSON line: {"full_ms": [...], "query_ms": [...], "full_cpu_ms": [...], "query_cpu_ms": [...], "peak_rss_mb": ...}.
"""
import argparse
import json
import resource
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--d", type=int, default=15)
    ap.add_argument("--n", type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dt = torch.float64  # icrl's teacher mimicking is float64 (its loss goes down to 1e-20)
    d, n, B = a.d, a.n, a.batch
    D, N, r0 = 3 * d + 2, n + 1, 2 * d + 1
    Z = torch.randn(B, D, N, dtype=dt)
    target = torch.randn(B, d, dtype=dt)
    M = torch.eye(N, dtype=dt)
    M[n, n] = 0

    def run(form):
        P = (0.01 * torch.randn(D, D, dtype=dt)).requires_grad_(True)
        Q = (0.01 * torch.randn(D, D, dtype=dt)).requires_grad_(True)
        opt = torch.optim.Adam([P, Q], lr=1e-2)

        def step():
            opt.zero_grad()
            if form == "full":
                Zn = Z + P @ Z @ M @ Z.transpose(1, 2) @ Q @ Z / n
                pred = Zn[:, r0:r0 + d, n]
            else:
                S = Z[:, :, :n] @ Z[:, :, :n].transpose(1, 2)  # context Gram [B, D, D]
                pred = Z[:, r0:r0 + d, n] + (P[r0:r0 + d] @ S @ Q @ Z[:, :, n:]).squeeze(-1) / n
            loss = ((pred - target) ** 2).sum(-1).mean()
            loss.backward()
            opt.step()
            return float(loss)

        step()
        ts, cs = [], []
        for _ in range(a.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            ts.append((time.perf_counter() - t0) * 1000)
            cs.append((time.process_time() - c0) * 1000)
        return ts, cs

    (full, full_cpu), (query, query_cpu) = run("full"), run("query")
    print(json.dumps({"full_ms": full, "query_ms": query, "full_cpu_ms": full_cpu, "query_cpu_ms": query_cpu, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
