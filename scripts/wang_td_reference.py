#!/usr/bin/python3
"""Parity fixture for the Wang et al. TD pretraining (src/train/td-pretrain.ts) from their own code.

Runs Wang, Blaser, Daneshmand & Zhang's InContextTD code (github.com/Sequential-Intelligence-Lab/
InContextTD, MIT licence; checked at commit 81145541d6bacce6f59e6235c032b1d14c5df733) on one Boyan
chain and writes test/fixtures/lsa-wang-parity.json with everything needed to replay the same
mini-batch in TypeScript: the features, the chain (P, r, mu, stationary distribution), the visited
states, the weights, and what their code computes from them:

- one mini-batch of the "mstde" loss exactly as experiment/train.py builds it (prompt.reset(), then
  mini_batch_size prompt.step() calls; semi-gradient squared TD error with v_next detached), its value
  and the gradients w.r.t. P and Q of their `Transformer` (auto mode, L layers), and the same loss and
  d/d alpha for their `HardLinearTransformer`;
- P and Q after one torch.optim.Adam step (lr 1e-3, weight_decay 1e-6, their defaults);
- the logged metrics after `prompt.reset()`: value difference (utils.compute_msve of
  fit_value_func outputs), sensitivity similarity (utils.compare_sensitivity) and implicit-weight
  similarity (utils.implicit_weight_sim).

Their code keeps prompts in float32 (experiment/prompt.py casts features and rewards), so the whole
reference runs in float32 and the TypeScript test compares at about 1e-4 relative. Their modules are
imported unmodified; only the driving loop of train.py (a dozen lines) is restated here.

Regenerate:
    apt-get install -y python3-torch python3-scipy
    git clone https://github.com/Sequential-Intelligence-Lab/InContextTD /tmp/InContextTD
    /usr/bin/python3 scripts/wang_td_reference.py /tmp/InContextTD
"""
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Recorder:
    """Wraps an MRP and records every state the prompt visits (reset, then each step's next state)."""

    def __init__(self, mrp):
        self.mrp = mrp
        self.states = []
        self.n_states = mrp.n_states
        self.steady_d = mrp.steady_d

    def reset(self):
        s = int(self.mrp.reset())
        self.states.append(s)
        return s

    def step(self, state):
        s2, r = self.mrp.step(state)
        s2 = int(s2)
        self.states.append(s2)
        return s2, r

    def copy(self):
        return self.mrp.copy()


def main(repo):
    sys.path.insert(0, repo)
    from experiment.model import HardLinearTransformer, Transformer
    from experiment.prompt import Feature, MRPPrompt
    from MRP.boyan import BoyanChain
    from utils import compare_sensitivity, compute_msve, implicit_weight_sim

    d, s, n, L, gamma, B = 4, 10, 30, 3, 0.9, 64
    torch.manual_seed(7)
    np.random.seed(7)
    feat = Feature(d, s)
    chain = BoyanChain(n_states=s, gamma=gamma, weight=None, X=feat.phi)
    tf = Transformer(d, n, L, activation="identity", mode="auto")
    # move the weights off the tiny initialisation towards the TD pattern so every term matters
    with torch.no_grad():
        tf.attn.P.mul_(3.0)
        tf.attn.Q.mul_(3.0)
        tf.attn.P[2 * d, 2 * d] += 0.8
        for k in range(d):
            tf.attn.Q[k, k] -= 0.7
            tf.attn.Q[k, d + k] += 0.5
    P0 = tf.attn.P.detach().clone()
    Q0 = tf.attn.Q.detach().clone()
    hard = HardLinearTransformer(d, n, L)
    with torch.no_grad():
        hard.attn.alpha.fill_(1.3)

    # one mini-batch, as in experiment/train.py (training_loss == 'mstde')
    rec = Recorder(chain)
    prompt = MRPPrompt(d, n, gamma, rec, feat)
    Z0 = prompt.reset()
    v_cur = tf.pred_v(Z0)
    vh_cur = hard.pred_v(Z0)
    loss = 0.0
    loss_h = 0.0
    for _ in range(B):
        Zn, r = prompt.step()
        v_next = tf.pred_v(Zn)
        vh_next = hard.pred_v(Zn)
        loss += (r + gamma * v_next.detach() - v_cur) ** 2
        loss_h += (r + gamma * vh_next.detach() - vh_cur) ** 2
        v_cur, vh_cur = v_next, vh_next
    loss /= B
    loss_h /= B
    opt = torch.optim.Adam(tf.parameters(), lr=1e-3, weight_decay=1e-6)
    opt.zero_grad()
    loss.backward()
    gP = tf.attn.P.grad.detach().clone()
    gQ = tf.attn.Q.grad.detach().clone()
    opt.step()
    P_adam = tf.attn.P.detach().clone()
    Q_adam = tf.attn.Q.detach().clone()
    loss_h.backward()
    g_alpha = float(hard.attn.alpha.grad)  # read now: the metric helpers below call backward() on it again
    batch_states = list(rec.states)

    # logged metrics after prompt.reset() (train.py, every log_interval MRPs), weights P0, Q0
    with torch.no_grad():
        tf.attn.P.copy_(P0)
        tf.attn.Q.copy_(Q0)
    rec.states = []
    prompt.reset()
    phi = torch.from_numpy(feat.phi)
    v_tf = tf.fit_value_func(prompt.context(), phi).detach().numpy()
    v_td = hard.fit_value_func(prompt.context(), phi).detach().numpy()
    vd = compute_msve(v_tf, v_td, chain.steady_d)
    ss = compare_sensitivity(tf, hard, prompt)
    iws = implicit_weight_sim(v_tf, hard, prompt)

    f = lambda t: [float(x) for x in np.asarray(t, dtype=np.float64).reshape(-1)]
    out = {
        "source": "Sequential-Intelligence-Lab/InContextTD @ 81145541 (experiment/model.py, experiment/prompt.py, "
        "MRP/boyan.py, utils.py), driven as experiment/train.py does; float32",
        "d": d, "s": s, "n": n, "layers": L, "gamma": gamma, "batchSize": B,
        "Phi": f(feat.phi),
        "P_mrp": f(chain.P), "r": f(chain.r), "mu": f(chain.mu), "dPi": f(chain.steady_d),
        "batchStates": batch_states,
        "evalStates": list(rec.states),
        "P": f(P0), "Q": f(Q0), "alpha": 1.3,
        "loss": float(loss), "gP": f(gP), "gQ": f(gQ),
        "lossHard": float(loss_h), "gAlpha": g_alpha,
        "adam": {"lr": 1e-3, "weightDecay": 1e-6, "P": f(P_adam), "Q": f(Q_adam)},
        "vd": float(vd), "ss": float(ss), "iws": float(iws),
    }
    path = os.path.join(ROOT, "test", "fixtures", "lsa-wang-parity.json")
    with open(path, "w") as fh:
        json.dump(out, fh)
    print("wrote", path, "loss", out["loss"], "lossHard", out["lossHard"], "vd", vd, "ss", ss, "iws", iws)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/InContextTD")
