/**
 * The hand-written LSA backward pass (src/lsa/layer.ts) against central finite differences:
 * dL/dP, dL/dQ (per layer, shared and sequential weights) and dL/dZ_0, for the standard mask and
 * the TD(lambda) mask, with L = 1 and L = 3 layers. Tolerance: 1e-6 relative to the gradient's max
 * entry (central differences with h = 1e-5 have O(h²) ≈ 1e-10 truncation and ~1e-11 round-off).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { lambdaMask, lsaBackward, lsaForwardTrace, standardMask, sumLayers, type Mask } from "../src/lsa/layer.js";

function normals(rng: Rng, len: number, std = 1): Float64Array {
  const x = new Float64Array(len);
  for (let i = 0; i < len; i++) x[i] = rng.normal(0, std);
  return x;
}

/** L(Z_L) = Σ G ⊙ Z_L, so dL/dZ_L = G. */
function loss(Z: Float64Array, P: Float64Array | Float64Array[], Q: Float64Array | Float64Array[], mask: Mask, L: number, G: Float64Array): number {
  const t = lsaForwardTrace(Z, P, Q, mask, L);
  const ZL = t[L];
  let s = 0;
  for (let i = 0; i < ZL.length; i++) s += G[i] * ZL[i];
  return s;
}

function fd(f: () => number, x: Float64Array, i: number, h = 1e-5): number {
  const old = x[i];
  x[i] = old + h;
  const a = f();
  x[i] = old - h;
  const b = f();
  x[i] = old;
  return (a - b) / (2 * h);
}

function assertClose(got: Float64Array, want: Float64Array, what: string): void {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    m = Math.max(m, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert.ok(scale > 0, `${what}: zero gradient`);
  assert.ok(m / scale < 1e-6, `${what}: max error ${m} vs scale ${scale}`);
}

for (const maskKind of ["standard", "lambda"] as const) {
  for (const L of [1, 3]) {
    for (const mode of ["shared", "sequential"] as const) {
      test(`LSA backward = finite differences (${maskKind} mask, L=${L}, ${mode} weights)`, () => {
        const rng = Rng.derive(11, maskKind, L, mode);
        const D = 5, n = 7, N = 9;
        const mask = maskKind === "standard" ? standardMask(n, N) : lambdaMask(n, N, 0.6);
        const Z = normals(rng, D * N);
        const G = normals(rng, D * N);
        const Ps = Array.from({ length: L }, () => normals(rng, D * D, 0.4));
        const Qs = Array.from({ length: L }, () => normals(rng, D * D, 0.4));
        const P = mode === "shared" ? Ps[0] : Ps;
        const Q = mode === "shared" ? Qs[0] : Qs;
        const f = () => loss(Z, P, Q, mask, L, G);
        const trace = lsaForwardTrace(Z, P, Q, mask, L);
        const g = lsaBackward(trace, P, Q, mask, G);
        // dZ_0
        assertClose(g.gZ, Z.map((_, i) => fd(f, Z, i)), "dL/dZ0");
        if (mode === "shared") {
          assertClose(sumLayers(g.gP), Ps[0].map((_, i) => fd(f, Ps[0], i)), "dL/dP (shared)");
          assertClose(sumLayers(g.gQ), Qs[0].map((_, i) => fd(f, Qs[0], i)), "dL/dQ (shared)");
        } else {
          for (let l = 0; l < L; l++) {
            assertClose(g.gP[l], Ps[l].map((_, i) => fd(f, Ps[l], i)), `dL/dP_${l}`);
            assertClose(g.gQ[l], Qs[l].map((_, i) => fd(f, Qs[l], i)), `dL/dQ_${l}`);
          }
        }
      });
    }
  }
}

// L=3 keeps the backward's G_S in factored (low-rank) form throughout; L=5 makes it dense.
test("Gram-space recursion equals the generic forward and backward (query column, L=3 and 5, both masks)", async () => {
  const { lsaGramTrace, lsaGramBackward, gram } = await import("../src/lsa/layer.js");
  for (const maskKind of ["standard", "lambda"] as const) {
    for (const [mode, L] of [["shared", 3], ["sequential", 3], ["shared", 5], ["sequential", 5]] as const) {
      const rng = Rng.derive(21, maskKind, mode, L);
      const D = 5, n = 7, N = 8;
      const mask = maskKind === "standard" ? standardMask(n, N) : lambdaMask(n, N, 0.6);
      const Z = normals(rng, D * N);
      const Ps = Array.from({ length: L }, () => normals(rng, D * D, 0.4));
      const Qs = Array.from({ length: L }, () => normals(rng, D * D, 0.4));
      const P = mode === "shared" ? Ps[0] : Ps;
      const Q = mode === "shared" ? Qs[0] : Qs;
      const trace = lsaForwardTrace(Z, P, Q, mask, L);
      const zq = new Float64Array(D).map((_, r) => Z[r * N + n]);
      const gt = lsaGramTrace(gram(Z, D, mask), zq, P, Q, n, L);
      const zL = new Float64Array(D).map((_, r) => trace[L][r * N + n]);
      assertClose(gt.z[L], zL, "query column");
      // loss = uᵀ z_L
      const u = normals(rng, D);
      const G = new Float64Array(D * N);
      for (let r = 0; r < D; r++) G[r * N + n] = u[r];
      const want = lsaBackward(trace, P, Q, mask, G);
      const got = lsaGramBackward(gt, P, Q, n, u);
      if (mode === "shared") {
        assertClose(sumLayers(got.gP), sumLayers(want.gP), "gP shared");
        assertClose(sumLayers(got.gQ), sumLayers(want.gQ), "gQ shared");
      } else {
        for (let l = 0; l < L; l++) {
          assertClose(got.gP[l], want.gP[l], `gP_${l}`);
          assertClose(got.gQ[l], want.gQ[l], `gQ_${l}`);
        }
      }
    }
  }
});
