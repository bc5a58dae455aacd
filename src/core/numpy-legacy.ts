/**
 * numpy's legacy generator (`numpy.random.RandomState(seed)` with an integer seed), for the few
 * numbers the anchors fix with it: DPT's linear-bandit arm features
 * (`RandomState(1234).normal(size=(10, 2)) / sqrt(2)`). Written from the algorithm's definition:
 * MT19937 (Matsumoto & Nishimura, 1998) seeded by the reference `init_genrand`, doubles from two
 * draws (27 + 26 bits, the 53-bit construction numpy calls `random_sample`), and normals by the
 * Marsaglia polar method that keeps the second value of each pair for the next call (numpy's
 * legacy `gauss`). Golden values from numpy 1.24 are in test/numpy-legacy.test.ts.
 *
 * This is not icrl's generator (core/rng.ts is): it exists only to reproduce data the anchors
 * drew with numpy, and nothing else in icrl uses it.
 */
import { invalid } from "./errors.js";

const N = 624;
const M = 397;

export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;
  private gauss: number | null = null;

  constructor(seed: number) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw invalid("seed", seed, "an integer in [0, 2^32 - 1] (numpy RandomState)");
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32 (Math.imul keeps the low 32 bits exactly)
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      let v = mt[(i + M) % N] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.pos = 0;
  }

  /** The next raw 32-bit output. */
  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits (numpy `random_sample`). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A standard normal (numpy legacy `standard_normal` / `normal(0, 1)`). */
  standardNormal(): number {
    if (this.gauss !== null) {
      const g = this.gauss;
      this.gauss = null;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.randomSample() - 1;
      x2 = 2 * this.randomSample() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    return f * x2;
  }

  /** `normal(loc, scale, size=n)`, row-major. */
  normal(n: number, loc = 0, scale = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = loc + scale * this.standardNormal();
    return out;
  }
}
