#!/usr/bin/python3
"""PyTorch side of bench/train-step.ts: time one training step (forward, backward, AdamW) of the
same model as the TypeScript side (the functional reference in scripts/torch_reference.py).

Run by bench/run.ts (`npm run bench`) and bench/train-step.ts, alternating with the TypeScript steps; standalone:
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_step.py --config lin --steps 2 --threads 1
Prints one JSON line: {"times_ms": [...], "cpu_ms": [...] (process CPU time), "peak_rss_mb": ..., "threads": ..., "torch": ...}.
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
from torch_reference import build_model, loss_sum  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _threadcpu import busiest, thread_cpu  # noqa: E402

CONFIGS = {
    # Lin et al. (4 heads, as the presets) at the quick presets' horizon H = 50 (100 tokens), batch 128.
    "lin50": {"backbone": "relu", "layout": "lin", "numArms": 10, "tokenDim": 63, "dModel": 32, "numLayers": 8, "numHeads": 4, "mlpRatio": 1,
              "layerNormEps": 1e-5, "maxPositions": 808, "seq": 100, "readout": 50, "batch": 128},
    # dpt-darkroom: GPT-2, L=4, D=32, 1 head, 100 transitions + query (101 tokens), batch 64, A=5, token width 12.
    "darkroom": {"backbone": "gpt", "layout": "all", "numArms": 5, "tokenDim": 12, "dModel": 32, "numLayers": 4, "numHeads": 1, "mlpRatio": 4,
                 "layerNormEps": 1e-5, "maxPositions": 104, "seq": 101, "readout": 101, "batch": 64},
    # Lin et al. linear bandit: ReLU attention, L=8, D=32, 4 heads (run_bandit.sh; the presets), d=5, A=10, T=200 (400 tokens), batch 128.
    "lin": {"backbone": "relu", "layout": "lin", "numArms": 10, "tokenDim": 63, "dModel": 32, "numLayers": 8, "numHeads": 4, "mlpRatio": 1,
            "layerNormEps": 1e-5, "maxPositions": 804, "seq": 400, "readout": 200, "batch": 128},
    # DPT bandit: GPT-2, L=4, D=32, 1 head, 500 transitions + query token, batch 64, A=5, state [1].
    "dpt": {"backbone": "gpt", "layout": "dpt", "numArms": 5, "tokenDim": 8, "dModel": 32, "numLayers": 4, "numHeads": 1, "mlpRatio": 4,
            "layerNormEps": 1e-5, "maxPositions": 2004, "seq": 501, "readout": 500, "batch": 64},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=list(CONFIGS), required=True)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1, help="uncounted steps before the timed ones")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=0, help="override the batch size (smoke runs)")
    ap.add_argument("--seq-scale", type=float, default=1.0, help="scale the sequence length (smoke runs)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = dict(CONFIGS[a.config])
    if a.batch:
        cfg["batch"] = a.batch
    if a.seq_scale != 1.0:
        cfg["seq"] = max(4, int(cfg["seq"] * a.seq_scale) // 2 * 2 + (cfg["seq"] % 2))
        cfg["readout"] = cfg["seq"] // 2 if cfg["layout"] == "lin" else cfg["seq"] - 1
    rng = np.random.default_rng(0)
    p = build_model(cfg, rng, torch.float32)
    for t in p.values():
        t.requires_grad_(True)
    B, S = cfg["batch"], cfg["seq"]
    tokens = torch.tensor(rng.normal(size=(B, S, cfg["tokenDim"])).astype(np.float32))
    labels = torch.tensor(rng.integers(0, cfg["numArms"], size=(B, cfg["readout"])))
    weights = torch.ones(B, cfg["readout"])
    opt = torch.optim.AdamW(list(p.values()), lr=1e-3, weight_decay=1e-4)

    def step():
        opt.zero_grad()
        loss = loss_sum(cfg, p, tokens, labels, weights) / B
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(max(1, a.warmup)):
        step()  # warm-up
    times, cpu, busy = [], [], []
    for _ in range(a.steps):
        c0, th = time.process_time(), thread_cpu()
        t0 = time.perf_counter()  # after the /proc reads: the wall time is the step's alone
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        busy.append(busiest(th, thread_cpu()))
    print(json.dumps({"times_ms": times, "cpu_ms": cpu, "busiest_ms": busy, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": torch.get_num_threads(),
                      "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
