/**
 * Lin, Bai & Mei (ICLR 2024), Theorem thm:approx_ucbvi: the constructed transformer's action
 * distributions equal soft UCB-VI's on random small episodic MDPs. Tolerance: 1e-12 on probabilities
 * and 1e-10 on log-probabilities (float64 rounding of logits Q̂/τ of size ≤ H·K).
 * A small bonus constant keeps Q̂ below its truncation at H, so the policies are not trivially uniform.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { checkUcbVi } from "../src/constructions/lin-experiments.js";
import { EpisodicMdpEnv, sampleEpisodicMdp, valueIteration } from "../src/envs/episodic-mdp.js";

test("soft UCB-VI transformer = soft UCB-VI (S=3, A=2, H=3, K=8; and S=2, A=3, H=2 deterministic rewards)", () => {
  const r1 = checkUcbVi({ seed: 0, S: 3, A: 2, H: 3, K: 8, mdps: 4, bonusScale: 0.05 });
  assert.ok(r1.fractionNonTrivial > 0.9, `non-trivial fraction ${r1.fractionNonTrivial}`);
  assert.ok(r1.maxAbsProbDiff < 1e-12 && r1.maxAbsLogProbDiff < 1e-10, JSON.stringify(r1));
  assert.equal(r1.layers, 2 * 3 + 4);
  const r2 = checkUcbVi({ seed: 1, S: 2, A: 3, H: 2, K: 6, mdps: 3, bonusScale: 0.1, rewardKind: "deterministic" });
  assert.ok(r2.maxAbsProbDiff < 1e-12 && r2.maxAbsLogProbDiff < 1e-10, JSON.stringify(r2));
  const r3 = checkUcbVi({ seed: 2, S: 2, A: 2, H: 2, K: 5, mdps: 2 }); // the paper's bonus (c = 2)
  assert.ok(r3.maxAbsProbDiff < 1e-12, JSON.stringify(r3));
});

test("episodic MDP: Dirichlet transitions, value iteration oracle, Gymnasium-style stepping", () => {
  const m = sampleEpisodicMdp(Rng.derive(3, "mdp"), { S: 4, A: 3, H: 5 });
  for (let x = 0; x < m.H * m.S * m.A; x++) {
    let s = 0;
    for (let s2 = 0; s2 < m.S; s2++) s += m.P[x * m.S + s2];
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  const vi = valueIteration(m);
  // Monte Carlo check of V* under the optimal policy (5000 episodes; 4 standard errors).
  const env = new EpisodicMdpEnv(m, 7);
  let total = 0, total2 = 0;
  const n = 5000;
  for (let e = 0; e < n; e++) {
    let [s] = e === 0 ? env.reset({ seed: 7 }) : env.reset();
    let ret = 0;
    for (let h = 0; h < m.H; h++) {
      const st = env.step(vi.optimalAction[h * m.S + s]);
      ret += st.reward;
      s = st.observation;
      assert.equal(st.terminated, h === m.H - 1);
    }
    total += ret;
    total2 += ret * ret;
  }
  const mean = total / n;
  const se = Math.sqrt((total2 / n - mean * mean) / n);
  assert.ok(Math.abs(mean - vi.value) < 4 * se, `MC ${mean} vs V* ${vi.value} (se ${se})`);
});
