#!/usr/bin/python3
"""PyTorch side of the deployment benchmark (bench/run.ts): Lin et al.'s ReLU model (L=8, D=32,
d=5, A=10) deployed in context the way the anchors' eval code does it, by full recomputation: at
step t the whole prefix (t action/reward pairs + the query action-set token, 2t+1 tokens) runs
through the model, batched over B tasks, and the logits of the last token are read.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_deploy.py --batch 100 --steps 0,50,100,150,199 --threads 1

Times the listed steps (ms each, after one warm-up forward). Prints one JSON line.

`--config darkroom`: the dpt-darkroom GPT (L=4, D=32, 1 head, MLP 4x) deployed as DPT's
eval_darkroom.online does it: every environment step runs the query and the previous episode's
100 transitions (101 tokens) through the model for each task in the batch and reads the logits
at the last token. Every step costs the same; `--steps N` times N of them.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from torch_reference import build_model, hidden, linear  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _threadcpu import busiest, thread_cpu  # noqa: E402

CFG = {"backbone": "relu", "layout": "lin", "numArms": 10, "tokenDim": 63, "dModel": 32, "numLayers": 8, "numHeads": 4, "mlpRatio": 1,
       "layerNormEps": 1e-5, "maxPositions": 804}


DARKROOM = {"backbone": "gpt", "layout": "all", "numArms": 5, "tokenDim": 12, "dModel": 32, "numLayers": 4, "numHeads": 1, "mlpRatio": 4,
            "layerNormEps": 1e-5, "maxPositions": 104}


def darkroom(a):
    rng = np.random.default_rng(0)
    p = build_model(DARKROOM, rng, torch.float32)
    tokens = torch.tensor(rng.uniform(0, 1, size=(a.batch, 101, 12)).astype(np.float32))

    def step():
        with torch.no_grad():
            h = hidden(DARKROOM, p, tokens)
            return linear(h[:, -1], p, "head").numpy()

    step()  # warm-up
    times, cpu, busy = [], [], []
    for _ in range(int(a.steps)):
        t0, c0, th = time.perf_counter(), time.process_time(), thread_cpu()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        busy.append(busiest(th, thread_cpu()))
    print(json.dumps({"times_ms": times, "cpu_ms": cpu, "busiest_ms": busy, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=["lin", "darkroom"], default="lin")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--steps", default="0,50,100,150,199", help="comma-separated steps t to time (prefix of 2t+1 tokens)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.config == "darkroom":
        return darkroom(a)
    rng = np.random.default_rng(0)
    p = build_model(CFG, rng, torch.float32)
    B = a.batch
    steps = [int(s) for s in a.steps.split(",")]
    T = max(steps) + 1
    A, d = 10, 5
    # A full token array of T steps in Lin's layout; step t uses its first 2t+1 tokens.
    tok = np.zeros((B, 2 * T, 63), dtype=np.float32)
    tok[:, 0::2, : A * d] = rng.uniform(-1, 1, size=(B, 1, A * d))
    acts = rng.integers(0, A, size=(B, T))
    for t in range(T):
        tok[np.arange(B), 2 * t + 1, A * d + acts[:, t]] = 1
    tok[:, 1::2, A * d + A] = rng.normal(size=(B, T))
    tok[:, :, 61] = 1
    tok[:, :, 62] = np.arange(1, 2 * T + 1)
    tokens = torch.tensor(tok)

    def step(t):
        with torch.no_grad():
            h = hidden(CFG, p, tokens[:, : 2 * t + 1])
            logits = linear(h[:, -1], p, "head")
            return logits.numpy()

    step(steps[0])  # warm-up
    times, cpu, busy = [], [], []
    for t in steps:
        t0, c0, th = time.perf_counter(), time.process_time(), thread_cpu()
        step(t)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        busy.append(busiest(th, thread_cpu()))
    print(json.dumps({"times_ms": times, "cpu_ms": cpu, "busiest_ms": busy, "steps": steps, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
