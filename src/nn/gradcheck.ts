/**
 * Finite-difference gradient checks for models in float64 (used by test/nn-grad.test.ts and
 * available to anyone adding a model).
 */
import type { Rng } from "../core/rng.js";
import { type Params, type Tensor, compile, paramsFromHost, paramsToHost, valueAndGrad, toHost } from "./engine.js";

export interface GradCheckResult {
  /** Worst |analytic - numeric| / max(|analytic|, |numeric|, floor) over the probed coordinates. */
  worstRel: number;
  /** Where the worst coordinate was. */
  worstAt: string;
  probes: number;
}

/**
 * Compare the gradient of `loss(params)` with central differences at `perTensor` random
 * coordinates of every parameter tensor (float64 models only; step h).
 * `batch` must be a record of tensors; it is reused (referenced) for every evaluation.
 */
export function checkGradients<B extends { [k: string]: Tensor }>(
  loss: (p: Params, batch: B) => Tensor,
  params: Params,
  batch: B,
  rng: Rng,
  opts: { perTensor?: number; h?: number; floor?: number; skip?: (name: string, index: number) => boolean } = {},
): GradCheckResult {
  const perTensor = opts.perTensor ?? 3;
  const h = opts.h ?? 1e-5;
  const floor = opts.floor ?? 1e-8;
  const refBatch = (): B => {
    const out: { [k: string]: Tensor } = {};
    for (const k of Object.keys(batch)) out[k] = batch[k].ref;
    return out as B;
  };
  const f = compile((p: Params, b: B) => loss(p, b));
  const vg = compile((p: Params, b: B) => valueAndGrad((q: Params) => loss(q, b))(p) as unknown as [Tensor, Params]);
  const host = paramsToHost(params);
  const [, g] = vg(paramsFromHost(host), refBatch());
  const gh = paramsToHost(g);
  let worstRel = 0;
  let worstAt = "";
  let probes = 0;
  const evalAt = (name: string, i: number, delta: number): number => {
    const copy = { ...host, [name]: { ...host[name], data: host[name].data.slice() } };
    copy[name].data[i] += delta;
    return f(paramsFromHost(copy), refBatch()).item();
  };
  for (const name of Object.keys(host)) {
    const n = host[name].data.length;
    for (let j = 0; j < Math.min(perTensor, n); j++) {
      let i = rng.int(n);
      for (let tries = 0; tries < 20 && opts.skip?.(name, i); tries++) i = rng.int(n);
      if (opts.skip?.(name, i)) continue;
      const num = (evalAt(name, i, h) - evalAt(name, i, -h)) / (2 * h);
      const ana = gh[name].data[i];
      const rel = Math.abs(ana - num) / Math.max(Math.abs(ana), Math.abs(num), floor);
      probes++;
      if (rel > worstRel) {
        worstRel = rel;
        worstAt = `${name}[${i}]: analytic ${ana}, numeric ${num}`;
      }
    }
  }
  f.dispose();
  vg.dispose();
  return { worstRel, worstAt, probes };
}

/** Convenience: host copy of a tensor's data as numbers. */
export function tensorValues(t: Tensor): number[] {
  return Array.from(toHost(t).data);
}
