/**
 * How a deployed transformer turns its logits into actions, for bandits and MDPs alike: the
 * softmax of each task's row, then a draw from it with the task's own stream (both anchors sample
 * online) or its argmax (the first of equal maxima).
 */
import type { Rng } from "../core/rng.js";

/** Actions from logits z [N, A] (row-major), sampled or greedy, and the softmax probabilities [N, A]. */
export function actFromLogits(z: ArrayLike<number>, N: number, A: number, greedy: boolean, rngs: readonly Rng[]): { actions: Int32Array<ArrayBuffer>; probs: Float64Array<ArrayBuffer> } {
  const probs = new Float64Array(N * A);
  const actions = new Int32Array(N);
  for (let j = 0; j < N; j++) {
    const o = j * A;
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, z[o + a]);
    let s = 0;
    for (let a = 0; a < A; a++) s += probs[o + a] = Math.exp(z[o + a] - m);
    for (let a = 0; a < A; a++) probs[o + a] /= s;
    const row = probs.subarray(o, o + A);
    if (greedy) {
      let b = 0;
      for (let a = 1; a < A; a++) if (row[a] > row[b]) b = a;
      actions[j] = b;
    } else actions[j] = rngs[j].categorical(row);
  }
  return { actions, probs };
}
