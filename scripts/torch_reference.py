#!/usr/bin/python3
"""PyTorch reference models of src/nn/transformer.ts and the parity fixture generator.

Writes test/fixtures/nn-torch-parity.json: for a tiny Lin et al. ReLU-attention model and a tiny
DPT GPT-2 model, the raw trajectories, the token arrays built the way the anchors' net.py builds
them, float32-representable weights, and (computed in float64) the summed cross-entropy loss, every
parameter gradient, and the parameters after two torch.optim.AdamW steps with
clip_grad_norm_. test/nn-parity.test.ts checks the TypeScript models against it (no Python needed).

Regenerate (Debian's torch; the pyenv python3 on PATH does not see Debian packages):
    apt-get update && apt-get install -y python3-torch libopenblas0-pthread
    /usr/bin/python3 scripts/torch_reference.py            # writes the fixture
The models here are written functionally over a dict of tensors named exactly like the TypeScript
parameter record; Linear weights are stored [in, out] (x @ w + b), as in the TypeScript code.

- ReLU backbone: Lin, Bai & Mei, `DecoderTransformerBackbone` in licong-lin/in-context-rl/net.py
  (ReLU(Q K^T) * M, M[i, j] = 1/(i+1) for j <= i; H = LN1(H + A V); H = LN2(H + MLP(H))).
- GPT backbone: HF GPT-2 as DPT uses it (pre-LN, softmax(QK^T/sqrt(hd)) with causal mask, c_proj,
  gelu_new = tanh-GELU, MLP 4D, final LayerNorm, eps 1e-5), re-implemented here because Debian
  has no `transformers` package.
bench/torch_step.py imports build_model() from here for the benchmark.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def layer_norm(x, p, name, eps):
    return F.layer_norm(x, (x.shape[-1],), p[name + ".w"], p[name + ".b"], eps)


def linear(x, p, name, bias=True):
    y = x @ p[name + ".w"]
    return y + p[name + ".b"] if bias else y


def split_heads(x, H):  # [B, S, D] -> [B, H, S, hd]
    B, S, D = x.shape
    return x.reshape(B, S, H, D // H).transpose(1, 2)


def merge_heads(x):  # [B, H, S, hd] -> [B, S, D]
    B, H, S, hd = x.shape
    return x.transpose(1, 2).reshape(B, S, H * hd)


def hidden(cfg, p, tokens):
    B, S, _ = tokens.shape
    D, H, L, eps = cfg["dModel"], cfg["numHeads"], cfg["numLayers"], cfg["layerNormEps"]
    h = linear(tokens, p, "embed") + p["wpe"][:S]
    causal = torch.tril(torch.ones(S, S, dtype=torch.bool))
    if cfg["backbone"] == "relu":
        M = torch.tril(torch.ones(S, S, dtype=h.dtype)) / torch.arange(1, S + 1, dtype=h.dtype).reshape(S, 1)
        for l in range(L):
            q = split_heads(linear(h, p, f"h.{l}.attn.q", False), H)
            k = split_heads(linear(h, p, f"h.{l}.attn.k", False), H)
            v = split_heads(linear(h, p, f"h.{l}.attn.v", False), H)
            att = torch.relu(q @ k.transpose(-1, -2)) * M
            h = layer_norm(h + merge_heads(att @ v), p, f"h.{l}.ln1", eps)
            m = linear(torch.relu(linear(h, p, f"h.{l}.mlp.fc")), p, f"h.{l}.mlp.proj")
            h = layer_norm(h + m, p, f"h.{l}.ln2", eps)
        return h
    for l in range(L):
        a = layer_norm(h, p, f"h.{l}.ln1", eps)
        qkv = linear(a, p, f"h.{l}.attn.qkv")
        q, k, v = (split_heads(t, H) for t in qkv.split(D, dim=-1))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        s = s.masked_fill(~causal, float("-inf"))
        o = merge_heads(torch.softmax(s, dim=-1) @ v)
        h = h + linear(o, p, f"h.{l}.attn.proj")
        a = layer_norm(h, p, f"h.{l}.ln2", eps)
        h = h + linear(F.gelu(linear(a, p, f"h.{l}.mlp.fc"), approximate="tanh"), p, f"h.{l}.mlp.proj")
    return layer_norm(h, p, "lnf", eps)


def readout_logits(cfg, p, tokens):
    h = hidden(cfg, p, tokens)
    if cfg["layout"] == "lin":
        h = h[:, 0::2, :]  # Lin: preds[:, 0::2, :]
    elif cfg["layout"] == "dpt":
        h = h[:, 1:, :]  # DPT: preds[:, 1:, :]
    return linear(h, p, "head")


def loss_sum(cfg, p, tokens, labels, weights):
    logits = readout_logits(cfg, p, tokens)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none")
    return (ce * weights.reshape(-1)).sum()


def param_shapes(cfg):
    D, L, A, F_ = cfg["dModel"], cfg["numLayers"], cfg["numArms"], cfg["tokenDim"]
    hid = cfg["mlpRatio"] * D
    s = {"embed.w": (F_, D), "embed.b": (D,), "wpe": (cfg["maxPositions"], D), "head.w": (D, A), "head.b": (A,)}
    for l in range(L):
        if cfg["backbone"] == "gpt":
            s.update({f"h.{l}.ln1.w": (D,), f"h.{l}.ln1.b": (D,), f"h.{l}.attn.qkv.w": (D, 3 * D), f"h.{l}.attn.qkv.b": (3 * D,),
                      f"h.{l}.attn.proj.w": (D, D), f"h.{l}.attn.proj.b": (D,), f"h.{l}.ln2.w": (D,), f"h.{l}.ln2.b": (D,),
                      f"h.{l}.mlp.fc.w": (D, hid), f"h.{l}.mlp.fc.b": (hid,), f"h.{l}.mlp.proj.w": (hid, D), f"h.{l}.mlp.proj.b": (D,)})
        else:
            s.update({f"h.{l}.attn.q.w": (D, D), f"h.{l}.attn.k.w": (D, D), f"h.{l}.attn.v.w": (D, D),
                      f"h.{l}.ln1.w": (D,), f"h.{l}.ln1.b": (D,), f"h.{l}.mlp.fc.w": (D, hid), f"h.{l}.mlp.fc.b": (hid,),
                      f"h.{l}.mlp.proj.w": (hid, D), f"h.{l}.mlp.proj.b": (D,), f"h.{l}.ln2.w": (D,), f"h.{l}.ln2.b": (D,)})
    if cfg["backbone"] == "gpt":
        s.update({"lnf.w": (D,), "lnf.b": (D,)})
    return dict(sorted(s.items()))


def build_model(cfg, rng, dtype=torch.float32):
    """Random float32-representable weights: N(0, 0.3) (LayerNorm weights 1 + N(0, 0.3))."""
    p = {}
    for name, shape in param_shapes(cfg).items():
        w = rng.normal(0.0, 0.3, size=shape)
        if name.endswith(("ln1.w", "ln2.w", "lnf.w")):
            w = 1.0 + w
        p[name] = torch.tensor(w.astype(np.float32), dtype=dtype)
    return p


def lin_tokens(action_set, actions, rewards, A):
    """Lin's net.py Transformer.forward (training mode), for a batch."""
    B, T = actions.shape
    a_set0 = action_set.reshape(B, 1, -1)
    a_set = torch.cat([a_set0, torch.zeros_like(a_set0)], dim=1).repeat(1, T, 1)
    act = torch.zeros(B, 2 * T, A + 1, dtype=torch.float64)
    act[:, 1::2, :] = torch.cat([F.one_hot(actions, A).double(), rewards[:, :, None]], dim=2)
    ones = torch.ones(B, 2 * T, 1, dtype=torch.float64)
    pos = torch.arange(1, 2 * T + 1, dtype=torch.float64).reshape(1, -1, 1).repeat(B, 1, 1)
    return torch.cat([a_set, act, ones, pos], dim=2)


def dpt_tokens(query, states, actions, next_states, rewards, A):
    """DPT's net.py Transformer.forward: query token first, then (s, a, s', r)."""
    B, n, sd = states.shape
    z = torch.zeros(B, 1, A + 2 * sd + 1, dtype=torch.float64)
    s = torch.cat([query[:, None, :], states], dim=1)
    a = torch.cat([z[:, :, :A], F.one_hot(actions, A).double()], dim=1)
    s2 = torch.cat([z[:, :, :sd], next_states], dim=1)
    r = torch.cat([z[:, :, :1], rewards[:, :, None]], dim=1)
    return torch.cat([s, a, s2, r], dim=2)


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def f32s(t):
    return [float(np.float32(x)) for x in t.detach().reshape(-1).tolist()]


def make_case(cfg, rng):
    B = 3
    A = cfg["numArms"]
    if cfg["layout"] == "lin":
        T, d = cfg["horizon"], cfg["dim"]
        action_set = torch.tensor(rng.normal(size=(B, A, d)).astype(np.float32), dtype=torch.float64)
        actions = torch.tensor(rng.integers(0, A, size=(B, T)))
        rewards = torch.tensor(rng.normal(size=(B, T)).astype(np.float32), dtype=torch.float64)
        labels = torch.tensor(rng.integers(0, A, size=(B, T)))
        tokens = lin_tokens(action_set, actions, rewards, A)
        raw = {"actionSet": [f32s(action_set[b]) for b in range(B)], "actions": actions.tolist(), "rewards": [f32s(rewards[b]) for b in range(B)], "labels": labels.tolist()}
        weights = torch.ones(B, T, dtype=torch.float64)
    else:
        n, sd = cfg["contextLength"], cfg["stateDim"]
        query = torch.tensor(rng.normal(size=(B, sd)).astype(np.float32), dtype=torch.float64)
        states = torch.tensor(rng.normal(size=(B, n, sd)).astype(np.float32), dtype=torch.float64)
        next_states = torch.tensor(rng.normal(size=(B, n, sd)).astype(np.float32), dtype=torch.float64)
        actions = torch.tensor(rng.integers(0, A, size=(B, n)))
        rewards = torch.tensor(rng.normal(size=(B, n)).astype(np.float32), dtype=torch.float64)
        opt = rng.integers(0, A, size=(B,))
        labels = torch.tensor(np.repeat(opt[:, None], n, axis=1))
        tokens = dpt_tokens(query, states, actions, next_states, rewards, A)
        raw = {"queryState": [f32s(query[b]) for b in range(B)], "states": [f32s(states[b]) for b in range(B)], "actions": actions.tolist(),
               "nextStates": [f32s(next_states[b]) for b in range(B)], "rewards": [f32s(rewards[b]) for b in range(B)], "optimalAction": opt.tolist()}
        weights = torch.ones(B, n, dtype=torch.float64)
        weights[0, -2:] = 0.0  # a shorter context: the last two prefixes of example 0 are padding
    p = build_model(cfg, rng, torch.float64)
    model_cfg = {k: cfg[k] for k in ["backbone", "layout", "tokenDim", "dModel", "numLayers", "numHeads", "numArms", "maxPositions", "mlpRatio", "layerNormEps"]}
    for t in p.values():
        t.requires_grad_(True)
    loss = loss_sum(cfg, p, tokens, labels, weights)
    grads = torch.autograd.grad(loss, list(p.values()))
    # Two AdamW steps (sum reduction, as the anchors), global-norm clipping at 1.0.
    q = {k: v.detach().clone().requires_grad_(True) for k, v in p.items()}
    adam = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.1, "clipNorm": 1.0}
    opt = torch.optim.AdamW(list(q.values()), lr=adam["lr"], betas=(adam["beta1"], adam["beta2"]), eps=adam["eps"], weight_decay=adam["weightDecay"])
    step_losses = []
    for _ in range(2):
        opt.zero_grad()
        l = loss_sum(cfg, q, tokens, labels, weights)
        l.backward()
        torch.nn.utils.clip_grad_norm_(list(q.values()), adam["clipNorm"])
        opt.step()
        step_losses.append(float(l))
    return {
        "config": model_cfg,
        "layoutArgs": {k: cfg[k] for k in ["horizon", "dim", "contextLength", "stateDim"] if k in cfg},
        "raw": raw,
        "tokens": {"shape": list(tokens.shape), "data": flat(tokens)},
        "labels": labels.tolist(),
        "weights": flat(weights),
        "params": {k: {"shape": list(v.shape), "data": f32s(v)} for k, v in p.items()},
        "loss": float(loss),
        "grads": {k: {"shape": list(g.shape), "data": flat(g)} for k, g in zip(p.keys(), grads)},
        "adamw": {**adam, "stepLosses": step_losses, "paramsAfter2": {k: {"shape": list(v.shape), "data": flat(v)} for k, v in q.items()}},
    }


def main():
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(20261122)
    relu = {"backbone": "relu", "layout": "lin", "numArms": 3, "dim": 2, "horizon": 4, "dModel": 8, "numLayers": 2, "numHeads": 1, "mlpRatio": 1, "layerNormEps": 1e-5}
    relu["tokenDim"] = relu["numArms"] * relu["dim"] + relu["numArms"] + 3  # A·d + A + 3 = 12
    relu["maxPositions"] = 2 * relu["horizon"]
    gpt = {"backbone": "gpt", "layout": "dpt", "numArms": 3, "stateDim": 1, "contextLength": 5, "dModel": 8, "numLayers": 2, "numHeads": 2, "mlpRatio": 4, "layerNormEps": 1e-5}
    gpt["tokenDim"] = 2 * gpt["stateDim"] + gpt["numArms"] + 1  # 2·sd + A + 1 = 6
    gpt["maxPositions"] = gpt["contextLength"] + 1
    out = {
        "generator": "scripts/torch_reference.py",
        "torch": torch.__version__,
        "note": "weights are float32-representable; loss, grads and AdamW results computed in float64",
        "relu": make_case(relu, rng),
        "gpt": make_case(gpt, rng),
    }
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "nn-torch-parity.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes); relu loss {out['relu']['loss']:.6f}, gpt loss {out['gpt']['loss']:.6f}")


if __name__ == "__main__":
    main()
