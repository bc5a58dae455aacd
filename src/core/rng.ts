/**
 * The one source of randomness in icrl: a seeded, splittable, serialisable generator.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state in four uint32 words.
 * Streams: `Rng.derive(seed, ...keys)` hashes (seed, keys) into an independent stream, so that
 * task i of a run always sees the same numbers whatever the number of workers or shards;
 * `split()` draws a child stream from the parent (advancing the parent).
 * Serialisation: `state()` / `Rng.fromState()` round-trip the exact position.
 *
 * Never use Math.random anywhere in icrl (the linter forbids it).
 */

/** SplitMix32-style finaliser (murmur3 fmix32): a bijective mixer of one uint32. */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** FNV-1a over the UTF-16 code units of a string. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Hash a key (integer or string) into a uint32; integers up to 2^53 keep both halves. */
function hashKey(k: string | number): number {
  if (typeof k === "string") return mix32(hashString(k) ^ 0x9e3779b9);
  if (!Number.isInteger(k) || k < 0 || k > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`rng key must be a non-negative safe integer or a string, got ${k}`);
  }
  const lo = k >>> 0;
  const hi = Math.floor(k / 4294967296) >>> 0;
  return mix32(lo ^ mix32(hi + 0x6a09e667));
}

export type RngState = [number, number, number, number];

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(s: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = s.map((x) => x >>> 0) as RngState;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** A generator seeded from a non-negative integer seed. */
  static fromSeed(seed: number): Rng {
    return Rng.derive(seed);
  }

  /**
   * An independent stream for (seed, ...keys), e.g. `Rng.derive(seed, "task", i)`.
   * Same arguments, same stream; different arguments, statistically independent streams.
   */
  static derive(seed: number, ...keys: (string | number)[]): Rng {
    let h = hashKey(seed);
    for (const k of keys) h = mix32((h ^ hashKey(k)) + 0x9e3779b9);
    // Expand to 128 bits with a SplitMix32 sequence.
    const words: number[] = [];
    let x = h;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      words.push(mix32(x ^ Math.imul(i + 1, 0x632be5ab)));
    }
    return new Rng(words as RngState);
  }

  /** Restore a generator from `state()`. */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new RangeError(`rng state must be four uint32 words, got ${JSON.stringify(state)}`);
    }
    return new Rng([state[0], state[1], state[2], state[3]]);
  }

  /** The exact position of this generator (four uint32 words). */
  state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  clone(): Rng {
    return new Rng(this.state());
  }

  /** A child stream; advances this generator by two draws. */
  split(): Rng {
    const a = this.nextUint32();
    const b = this.nextUint32();
    return Rng.derive(a, b);
  }

  /** A child stream keyed by `key`, derived from the current state without advancing it. */
  fork(key: string | number): Rng {
    return Rng.derive((this.s0 ^ mix32(this.s2)) >>> 0, this.s1, this.s3, key);
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform double in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Uniform integer in {0, ..., n-1} (unbiased, by rejection). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new RangeError(`int(n) needs 1 <= n <= 2^32, got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal by the Box-Muller transform (one value per call, no cached spare). */
  standardNormal(): number {
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Normal with mean `mean` and standard deviation `std`. */
  normal(mean = 0, std = 1): number {
    return mean + std * this.standardNormal();
  }

  /** 1 with probability p, else 0. */
  bernoulli(p: number): number {
    return this.random() < p ? 1 : 0;
  }

  /** Gamma(shape, scale) by Marsaglia & Tsang (2000); shape < 1 by the boost U^(1/shape). */
  gamma(shape: number, scale = 1): number {
    if (!(shape > 0) || !(scale > 0)) throw new RangeError(`gamma needs shape > 0 and scale > 0, got ${shape}, ${scale}`);
    if (shape < 1) {
      let u = 0;
      while (u === 0) u = this.random();
      return this.gamma(shape + 1, scale) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.standardNormal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.random();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** Dirichlet(alpha): normalised independent Gamma(alpha_k) draws. */
  dirichlet(alpha: readonly number[]): Float64Array {
    const out = new Float64Array(alpha.length);
    let sum = 0;
    for (let k = 0; k < alpha.length; k++) {
      out[k] = this.gamma(alpha[k]);
      sum += out[k];
    }
    for (let k = 0; k < alpha.length; k++) out[k] /= sum;
    return out;
  }

  /** Index k with probability probs[k] / sum(probs) (probabilities need not be normalised). */
  categorical(probs: ArrayLike<number>): number {
    let total = 0;
    for (let k = 0; k < probs.length; k++) total += probs[k];
    if (!(total > 0) || !Number.isFinite(total)) throw new RangeError(`categorical needs a positive finite total mass, got ${total}`);
    let u = this.random() * total;
    for (let k = 0; k < probs.length; k++) {
      u -= probs[k];
      if (u < 0) return k;
    }
    // Rounding left u >= 0: return the last index with positive mass.
    for (let k = probs.length - 1; k >= 0; k--) if (probs[k] > 0) return k;
    return probs.length - 1;
  }

  /** Index of the maximum, ties broken uniformly at random. */
  argmaxRandomTie(values: ArrayLike<number>): number {
    let best = -Infinity;
    let count = 0;
    let choice = 0;
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if (v > best) {
        best = v;
        count = 1;
        choice = k;
      } else if (v === best) {
        count++;
        if (this.int(count) === 0) choice = k;
      }
    }
    return choice;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The random stream after a Gymnasium-style `reset(opts)`: the stream given, else a fresh one from the seed given, else the current one. */
export function rngAfterReset(current: Rng, opts: { seed?: number; rng?: Rng }): Rng {
  return opts.rng ?? (opts.seed !== undefined ? Rng.fromSeed(opts.seed) : current);
}
