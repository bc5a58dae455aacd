// Compute kernels of the wasm training engine (src/nn/wasm/), in AssemblyScript with SIMD128.
// Built by scripts/build-kernels.mjs into dist/kernels/icrl.wasm.
//
// Conventions: every buffer is float32 (int32 for labels) in this module's memory, addressed by
// byte offsets that the host plans once per shape; strides and sizes are in elements. The module
// allocates nothing: the host grows the memory and owns the layout. Row-major throughout.

export function heapBase(): usize {
  return __heap_base;
}

/** Grow the memory by `pages` pages of 64 KiB; returns the old size in pages, or -1. */
export function grow(pages: i32): i32 {
  return memory.grow(pages);
}

@inline function f(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

// a·b + c per lane: one fused multiply-add where the build has relaxed SIMD (icrl-fma.wasm),
// a multiply then an add otherwise (icrl.wasm).
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// --- matrix multiply --------------------------------------------------------------------------

// One panel of gemm: register tiles of 4 rows × 8 columns (8 vector accumulators), then
// 4-column and scalar edges.
function gemmPanel(a: usize, sai: i32, sak: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, acc: i32): void {
  const stepA = <usize>sak << 2;
  const stepB = <usize>ldb << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = f(a, i * sai);
    const a1 = f(a, (i + 1) * sai);
    const a2 = f(a, (i + 2) * sai);
    const a3 = f(a, (i + 3) * sai);
    const c0 = f(c, i * ldc);
    const c1 = f(c, (i + 1) * ldc);
    const c2 = f(c, (i + 2) * ldc);
    const c3 = f(c, (i + 3) * ldc);
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const jo = <usize>j << 2;
      let x00 = f32x4.splat(0), x01 = f32x4.splat(0), x10 = f32x4.splat(0), x11 = f32x4.splat(0);
      let x20 = f32x4.splat(0), x21 = f32x4.splat(0), x30 = f32x4.splat(0), x31 = f32x4.splat(0);
      if (acc) {
        x00 = v128.load(c0 + jo); x01 = v128.load(c0 + jo, 16);
        x10 = v128.load(c1 + jo); x11 = v128.load(c1 + jo, 16);
        x20 = v128.load(c2 + jo); x21 = v128.load(c2 + jo, 16);
        x30 = v128.load(c3 + jo); x31 = v128.load(c3 + jo, 16);
      }
      let pb = b + jo;
      let pa = <usize>0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let s = v128.load32_splat(a0 + pa);
        x00 = madd(s, b0, x00);
        x01 = madd(s, b1, x01);
        s = v128.load32_splat(a1 + pa);
        x10 = madd(s, b0, x10);
        x11 = madd(s, b1, x11);
        s = v128.load32_splat(a2 + pa);
        x20 = madd(s, b0, x20);
        x21 = madd(s, b1, x21);
        s = v128.load32_splat(a3 + pa);
        x30 = madd(s, b0, x30);
        x31 = madd(s, b1, x31);
        pb += stepB;
        pa += stepA;
      }
      v128.store(c0 + jo, x00); v128.store(c0 + jo, x01, 16);
      v128.store(c1 + jo, x10); v128.store(c1 + jo, x11, 16);
      v128.store(c2 + jo, x20); v128.store(c2 + jo, x21, 16);
      v128.store(c3 + jo, x30); v128.store(c3 + jo, x31, 16);
    }
    for (; j + 4 <= N; j += 4) {
      const jo = <usize>j << 2;
      let x0 = f32x4.splat(0), x1 = f32x4.splat(0), x2 = f32x4.splat(0), x3 = f32x4.splat(0);
      if (acc) {
        x0 = v128.load(c0 + jo); x1 = v128.load(c1 + jo); x2 = v128.load(c2 + jo); x3 = v128.load(c3 + jo);
      }
      let pb = b + jo;
      let pa = <usize>0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        x0 = madd(v128.load32_splat(a0 + pa), b0, x0);
        x1 = madd(v128.load32_splat(a1 + pa), b0, x1);
        x2 = madd(v128.load32_splat(a2 + pa), b0, x2);
        x3 = madd(v128.load32_splat(a3 + pa), b0, x3);
        pb += stepB;
        pa += stepA;
      }
      v128.store(c0 + jo, x0); v128.store(c1 + jo, x1); v128.store(c2 + jo, x2); v128.store(c3 + jo, x3);
    }
    for (; j < N; j++) {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      let pb = f(b, j);
      let pa = <usize>0;
      for (let k = 0; k < K; k++) {
        const bv = load<f32>(pb);
        s0 += load<f32>(a0 + pa) * bv;
        s1 += load<f32>(a1 + pa) * bv;
        s2 += load<f32>(a2 + pa) * bv;
        s3 += load<f32>(a3 + pa) * bv;
        pb += stepB;
        pa += stepA;
      }
      const jo = <usize>j << 2;
      if (acc) {
        s0 += load<f32>(c0 + jo); s1 += load<f32>(c1 + jo); s2 += load<f32>(c2 + jo); s3 += load<f32>(c3 + jo);
      }
      store<f32>(c0 + jo, s0); store<f32>(c1 + jo, s1); store<f32>(c2 + jo, s2); store<f32>(c3 + jo, s3);
    }
  }
  for (; i < M; i++) {
    const a0 = f(a, i * sai);
    const c0 = f(c, i * ldc);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const jo = <usize>j << 2;
      let x0 = acc ? v128.load(c0 + jo) : f32x4.splat(0);
      let pb = b + jo;
      let pa = <usize>0;
      for (let k = 0; k < K; k++) {
        x0 = madd(v128.load32_splat(a0 + pa), v128.load(pb), x0);
        pb += stepB;
        pa += stepA;
      }
      v128.store(c0 + jo, x0);
    }
    for (; j < N; j++) {
      let s0: f32 = 0;
      let pb = f(b, j);
      let pa = <usize>0;
      for (let k = 0; k < K; k++) {
        s0 += load<f32>(a0 + pa) * load<f32>(pb);
        pb += stepB;
        pa += stepA;
      }
      const jo = <usize>j << 2;
      if (acc) s0 += load<f32>(c0 + jo);
      store<f32>(c0 + jo, s0);
    }
  }
}

/**
 * C[i, j] (+)= Σ_k A(i, k) B[k, j] for i < M, j < N, k < K, where A(i, k) = a[i·sai + k·sak]
 * (sai = lda, sak = 1 for A; sai = 1, sak = lda for Aᵀ), B[k, j] = b[k·ldb + j] and
 * C[i, j] = c[i·ldc + j]. acc = 0 overwrites C, acc = 1 adds to it. A long K (the weight
 * gradients, K = batch·tokens) is cut into panels of KC so that the panel of A and B in use stays
 * in cache across the column tiles.
 */
export function gemm(a: usize, sai: i32, sak: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, acc: i32): void {
  if (K <= KC) {
    gemmPanel(a, sai, sak, b, ldb, c, ldc, M, N, K, acc);
    return;
  }
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kn = min(KC, K - k0);
    gemmPanel(a + (<usize>(k0 * sak) << 2), sai, sak, b + (<usize>(k0 * ldb) << 2), ldb, c, ldc, M, N, kn, k0 > 0 ? 1 : acc);
  }
}

const KC = 256;

/** dst[j·ldd + i] = src[i·lds + j] for i < rows, j < cols; 4 × 4 blocks through lane shuffles. */
export function transpose(src: usize, lds: i32, rows: i32, cols: i32, dst: usize, ldd: i32): void {
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const s0 = f(src, i * lds);
    const s1 = f(src, (i + 1) * lds);
    const s2 = f(src, (i + 2) * lds);
    const s3 = f(src, (i + 3) * lds);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const jo = <usize>j << 2;
      const r0 = v128.load(s0 + jo);
      const r1 = v128.load(s1 + jo);
      const r2 = v128.load(s2 + jo);
      const r3 = v128.load(s3 + jo);
      const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
      v128.store(f(dst, j * ldd + i), v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
      v128.store(f(dst, (j + 1) * ldd + i), v128.shuffle<i32>(t0, t2, 2, 3, 6, 7));
      v128.store(f(dst, (j + 2) * ldd + i), v128.shuffle<i32>(t1, t3, 0, 1, 4, 5));
      v128.store(f(dst, (j + 3) * ldd + i), v128.shuffle<i32>(t1, t3, 2, 3, 6, 7));
    }
    for (; j < cols; j++) {
      const d = f(dst, j * ldd + i);
      store<f32>(d, load<f32>(f(s0, j)));
      store<f32>(d, load<f32>(f(s1, j)), 4);
      store<f32>(d, load<f32>(f(s2, j)), 8);
      store<f32>(d, load<f32>(f(s3, j)), 12);
    }
  }
  for (; i < rows; i++) {
    const s = f(src, i * lds);
    for (let j = 0; j < cols; j++) store<f32>(f(dst, j * ldd + i), load<f32>(f(s, j)));
  }
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// --- elementwise and row passes ---------------------------------------------------------------

/** c[i·ldc + j] += bias[j] (i < M, j < N). */
export function addBias(c: usize, ldc: i32, M: i32, N: i32, bias: usize): void {
  for (let i = 0; i < M; i++) {
    const r = f(c, i * ldc);
    let j = 0;
    for (; j + 4 <= N; j += 4) v128.store(f(r, j), f32x4.add(v128.load(f(r, j)), v128.load(f(bias, j))));
    for (; j < N; j++) store<f32>(f(r, j), load<f32>(f(r, j)) + load<f32>(f(bias, j)));
  }
}

/** out[j] (+)= Σ_i x[i·ldx + j] (acc = 1 adds to out). */
export function colSum(x: usize, ldx: i32, M: i32, N: i32, out: usize, acc: i32): void {
  if (!acc) memory.fill(out, 0, <usize>N << 2);
  for (let i = 0; i < M; i++) {
    const r = f(x, i * ldx);
    let j = 0;
    for (; j + 4 <= N; j += 4) v128.store(f(out, j), f32x4.add(v128.load(f(out, j)), v128.load(f(r, j))));
    for (; j < N; j++) store<f32>(f(out, j), load<f32>(f(out, j)) + load<f32>(f(r, j)));
  }
}

/** dst[i] = a[i] + b[i] (any of them may alias). */
export function add(dst: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(f(dst, i), f32x4.add(v128.load(f(a, i)), v128.load(f(b, i))));
  for (; i < n; i++) store<f32>(f(dst, i), load<f32>(f(a, i)) + load<f32>(f(b, i)));
}

export function zero(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}

export function copy(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** y = max(x, 0). */
export function reluFwd(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(f(y, i), f32x4.max(v128.load(f(x, i)), z));
  for (; i < n; i++) store<f32>(f(y, i), max<f32>(load<f32>(f(x, i)), 0));
}

/** dx = dy where x > 0, else 0 (dx may alias dy). */
export function reluBwd(x: usize, dy: usize, dx: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(f(dx, i), v128.and(v128.load(f(dy, i)), f32x4.gt(v128.load(f(x, i)), z)));
  for (; i < n; i++) store<f32>(f(dx, i), load<f32>(f(x, i)) > 0 ? load<f32>(f(dy, i)) : 0);
}

// e^x for 4 lanes: x = n ln2 + r (|r| <= ln2/2), e^r by a degree-6 polynomial, 2^n through the
// exponent bits. Relative error about 2e-7 over [-87, 88]; inputs are clamped to that range
// (e^-87 ≈ 1.6e-38 stands for 0 wherever this is used; NaN stays NaN). n is rounded by adding
// 1.5·2^23, whose low mantissa bits then hold n: cheaper than nearest + trunc_sat, which x86
// lowers to long sequences.
// The constants live in memory: one broadcast load each is cheaper than V8 rebuilding a
// v128.const in every loop iteration.
const EXPC = memory.data<f32>([-87.0, 88.0, 1.4426950408889634, 12582912.0, 0.693359375, -2.12194440e-4, 1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1.0, 2.0, 0.7978845608028654, 0.044715, 0.5, 3 * 0.044715]);
@inline function kc(i: i32): v128 {
  return v128.load32_splat(EXPC + (<usize>i << 2));
}

@inline function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, kc(0)), kc(1));
  const t = madd(x, kc(2), kc(3));
  const n = f32x4.sub(t, kc(3));
  let r = f32x4.sub(x, f32x4.mul(n, kc(4)));
  r = f32x4.sub(r, f32x4.mul(n, kc(5)));
  let p = kc(6);
  p = madd(p, r, kc(7));
  p = madd(p, r, kc(8));
  p = madd(p, r, kc(9));
  p = madd(p, r, kc(10));
  p = madd(p, r, kc(11));
  p = f32x4.add(madd(f32x4.mul(p, r), r, r), kc(12));
  // bits(t) = 0x4B400000 + n, so (n + 127) << 23 = (bits(t) - 0x4B3FFF81) << 23
  const e = i32x4.shl(i32x4.sub(t, i32x4.splat(0x4b3fff81)), 23);
  return f32x4.mul(p, e);
}

@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

const GELU_C: f32 = 0.7978845608028654; // sqrt(2/π)
const GELU_A: f32 = 0.044715;

// tanh(u) = 1 - 2/(e^{2u} + 1)
@inline function tanh4(u: v128): v128 {
  const e = exp4(f32x4.mul(u, kc(13)));
  return f32x4.sub(kc(12), f32x4.div(kc(13), f32x4.add(e, kc(12))));
}

/**
 * y = GELU(x), tanh approximation (GPT-2 gelu_new); saves th = tanh(√(2/π)(x + 0.044715x³)) for
 * the backward pass (which then needs no exp or division). th may alias x where no backward
 * pass follows (deployment), since geluBwd reads both.
 */
export function geluFwd(x: usize, y: usize, th: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(f(x, i));
    const u = f32x4.mul(kc(14), madd(kc(15), f32x4.mul(v, f32x4.mul(v, v)), v));
    const t = tanh4(u);
    v128.store(f(th, i), t);
    v128.store(f(y, i), f32x4.mul(f32x4.mul(kc(16), v), f32x4.add(kc(12), t)));
  }
  for (; i < n; i++) {
    const v = load<f32>(f(x, i));
    const u = GELU_C * (v + GELU_A * v * v * v);
    const t = f32x4.extract_lane(tanh4(f32x4.splat(u)), 0);
    store<f32>(f(th, i), t);
    store<f32>(f(y, i), <f32>0.5 * v * (<f32>1 + t));
  }
}

/** dx = dy · GELU'(x), given th saved by geluFwd (dx may alias dy). */
export function geluBwd(x: usize, th: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(f(x, i));
    const v2 = f32x4.mul(v, v);
    const t = v128.load(f(th, i));
    const du = f32x4.mul(kc(14), madd(kc(17), v2, kc(12)));
    const sech2 = f32x4.sub(kc(12), f32x4.mul(t, t));
    const g = madd(f32x4.mul(kc(16), v), f32x4.mul(sech2, du), f32x4.mul(kc(16), f32x4.add(kc(12), t)));
    v128.store(f(dx, i), f32x4.mul(v128.load(f(dy, i)), g));
  }
  for (; i < n; i++) {
    const v = load<f32>(f(x, i));
    const t = load<f32>(f(th, i));
    const g: f32 = <f32>0.5 * (<f32>1 + t) + <f32>0.5 * v * (<f32>1 - t * t) * GELU_C * (<f32>1 + <f32>3 * GELU_A * v * v);
    store<f32>(f(dx, i), load<f32>(f(dy, i)) * g);
  }
}

// --- layer norm -------------------------------------------------------------------------------

/**
 * y = (x - mean) / sqrt(var + eps) · w + b over rows of N (biased variance, torch LayerNorm);
 * saves mean and 1/sqrt(var + eps) per row. y may alias x.
 */
export function layerNormFwd(x: usize, y: usize, w: usize, b: usize, mean: usize, rstd: usize, M: i32, N: i32, eps: f32): void {
  const n4 = N & ~3;
  const inv: f32 = <f32>1 / <f32>N;
  for (let i = 0; i < M; i++) {
    const r = f(x, i * N);
    const o = f(y, i * N);
    let sv = f32x4.splat(0);
    let j = 0;
    for (; j < n4; j += 4) sv = f32x4.add(sv, v128.load(f(r, j)));
    let s: f32 = hsum(sv);
    for (; j < N; j++) s += load<f32>(f(r, j));
    const mu = s * inv;
    const muv = f32x4.splat(mu);
    let vv = f32x4.splat(0);
    for (j = 0; j < n4; j += 4) {
      const d = f32x4.sub(v128.load(f(r, j)), muv);
      vv = madd(d, d, vv);
    }
    let v: f32 = hsum(vv);
    for (; j < N; j++) {
      const d = load<f32>(f(r, j)) - mu;
      v += d * d;
    }
    const rs: f32 = <f32>1 / Mathf.sqrt(v * inv + eps);
    store<f32>(f(mean, i), mu);
    store<f32>(f(rstd, i), rs);
    const rsv = f32x4.splat(rs);
    for (j = 0; j < n4; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(f(r, j)), muv), rsv);
      v128.store(f(o, j), madd(xh, v128.load(f(w, j)), v128.load(f(b, j))));
    }
    for (; j < N; j++) store<f32>(f(o, j), (load<f32>(f(r, j)) - mu) * rs * load<f32>(f(w, j)) + load<f32>(f(b, j)));
  }
}

/**
 * Backward of layerNormFwd: dw += Σ dy·x̂, db += Σ dy, and dx (+)= rstd·(g - mean(g) - x̂·mean(g·x̂))
 * with g = dy·w (accDx = 1 adds to dx). dx must not alias dy.
 */
export function layerNormBwd(dy: usize, x: usize, w: usize, mean: usize, rstd: usize, dx: usize, dw: usize, db: usize, M: i32, N: i32, accDx: i32): void {
  const n4 = N & ~3;
  const inv: f32 = <f32>1 / <f32>N;
  for (let i = 0; i < M; i++) {
    const g = f(dy, i * N);
    const r = f(x, i * N);
    const o = f(dx, i * N);
    const mu = load<f32>(f(mean, i));
    const rs = load<f32>(f(rstd, i));
    const muv = f32x4.splat(mu);
    const rsv = f32x4.splat(rs);
    let sgv = f32x4.splat(0);
    let sgxv = f32x4.splat(0);
    let j = 0;
    for (; j < n4; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(f(r, j)), muv), rsv);
      const d = v128.load(f(g, j));
      v128.store(f(dw, j), madd(d, xh, v128.load(f(dw, j))));
      v128.store(f(db, j), f32x4.add(v128.load(f(db, j)), d));
      const gw = f32x4.mul(d, v128.load(f(w, j)));
      sgv = f32x4.add(sgv, gw);
      sgxv = madd(gw, xh, sgxv);
    }
    let sg: f32 = hsum(sgv);
    let sgx: f32 = hsum(sgxv);
    for (; j < N; j++) {
      const xh = (load<f32>(f(r, j)) - mu) * rs;
      const d = load<f32>(f(g, j));
      store<f32>(f(dw, j), load<f32>(f(dw, j)) + d * xh);
      store<f32>(f(db, j), load<f32>(f(db, j)) + d);
      const gw = d * load<f32>(f(w, j));
      sg += gw;
      sgx += gw * xh;
    }
    const mg = sg * inv;
    const mgx = sgx * inv;
    const mgv = f32x4.splat(mg);
    const mgxv = f32x4.splat(mgx);
    for (j = 0; j < n4; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(f(r, j)), muv), rsv);
      const t = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(f(g, j)), v128.load(f(w, j))), mgv), f32x4.mul(xh, mgxv));
      const v = f32x4.mul(rsv, t);
      v128.store(f(o, j), accDx ? f32x4.add(v128.load(f(o, j)), v) : v);
    }
    for (; j < N; j++) {
      const xh = (load<f32>(f(r, j)) - mu) * rs;
      const v = rs * (load<f32>(f(g, j)) * load<f32>(f(w, j)) - mg - xh * mgx);
      store<f32>(f(o, j), accDx ? load<f32>(f(o, j)) + v : v);
    }
  }
}

// --- causal attention rows --------------------------------------------------------------------

/**
 * Softmax attention weights, in place on score rows: row r (query position i = r0 + r) of s
 * (stride lds) holds q_i·k_j for j < cols; it becomes softmax_j(scale·s) over j <= i, and 0 for
 * i < j < cols.
 */
export function softmaxCausal(s: usize, lds: i32, rows: i32, cols: i32, r0: i32, scale: f32): void {
  const vs = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const p = f(s, r * lds);
    const n = min(r0 + r + 1, cols);
    let m: f32 = -Infinity;
    for (let j = 0; j < n; j++) m = max(m, load<f32>(f(p, j)));
    const vm = f32x4.splat(m * scale);
    let sum4 = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const e = exp4(f32x4.sub(f32x4.mul(v128.load(f(p, j)), vs), vm));
      v128.store(f(p, j), e);
      sum4 = f32x4.add(sum4, e);
    }
    let sum: f32 = f32x4.extract_lane(sum4, 0) + f32x4.extract_lane(sum4, 1) + f32x4.extract_lane(sum4, 2) + f32x4.extract_lane(sum4, 3);
    for (; j < n; j++) {
      const e = exp1(load<f32>(f(p, j)) * scale - m * scale);
      store<f32>(f(p, j), e);
      sum += e;
    }
    const inv = f32x4.splat(1 / sum);
    j = 0;
    for (; j + 4 <= n; j += 4) v128.store(f(p, j), f32x4.mul(v128.load(f(p, j)), inv));
    const is: f32 = <f32>1 / sum;
    for (; j < n; j++) store<f32>(f(p, j), load<f32>(f(p, j)) * is);
    for (j = n; j < cols; j++) store<f32>(f(p, j), 0);
  }
}

/**
 * Backward of softmaxCausal, in place on dp: ds_j = scale · p_j (dp_j - Σ_k p_k dp_k) over the
 * row's visible keys j <= i; 0 after them.
 */
export function softmaxCausalBwd(p: usize, ldp: i32, dp: usize, lddp: i32, rows: i32, cols: i32, r0: i32, scale: f32): void {
  for (let r = 0; r < rows; r++) {
    const pr = f(p, r * ldp);
    const dr = f(dp, r * lddp);
    const n = min(r0 + r + 1, cols);
    let dot4 = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) dot4 = f32x4.add(dot4, f32x4.mul(v128.load(f(pr, j)), v128.load(f(dr, j))));
    let dot: f32 = f32x4.extract_lane(dot4, 0) + f32x4.extract_lane(dot4, 1) + f32x4.extract_lane(dot4, 2) + f32x4.extract_lane(dot4, 3);
    for (; j < n; j++) dot += load<f32>(f(pr, j)) * load<f32>(f(dr, j));
    const vd = f32x4.splat(dot);
    const vs = f32x4.splat(scale);
    j = 0;
    for (; j + 4 <= n; j += 4) v128.store(f(dr, j), f32x4.mul(vs, f32x4.mul(v128.load(f(pr, j)), f32x4.sub(v128.load(f(dr, j)), vd))));
    for (; j < n; j++) store<f32>(f(dr, j), scale * load<f32>(f(pr, j)) * (load<f32>(f(dr, j)) - dot));
    for (j = n; j < cols; j++) store<f32>(f(dr, j), 0);
  }
}

/** Lin's ReLU attention weights, in place: p_ij = max(s_ij, 0)/(i + 1) for j <= i, 0 after. */
export function reluCausal(s: usize, lds: i32, rows: i32, cols: i32, r0: i32): void {
  const z = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const p = f(s, r * lds);
    const i = r0 + r;
    const n = min(i + 1, cols);
    const inv: f32 = 1 / <f32>(i + 1);
    const vi = f32x4.splat(inv);
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(f(p, j), f32x4.mul(f32x4.max(v128.load(f(p, j)), z), vi));
    for (; j < n; j++) store<f32>(f(p, j), max<f32>(load<f32>(f(p, j)), 0) * inv);
    for (j = n; j < cols; j++) store<f32>(f(p, j), 0);
  }
}

/** Backward of reluCausal, in place on dp: ds_ij = dp_ij/(i + 1) where p_ij > 0, else 0. */
export function reluCausalBwd(p: usize, ldp: i32, dp: usize, lddp: i32, rows: i32, cols: i32, r0: i32): void {
  const z = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const pr = f(p, r * ldp);
    const dr = f(dp, r * lddp);
    const i = r0 + r;
    const n = min(i + 1, cols);
    const inv: f32 = 1 / <f32>(i + 1);
    const vi = f32x4.splat(inv);
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(f(dr, j), v128.and(f32x4.mul(v128.load(f(dr, j)), vi), f32x4.gt(v128.load(f(pr, j)), z)));
    for (; j < n; j++) store<f32>(f(dr, j), load<f32>(f(pr, j)) > 0 ? load<f32>(f(dr, j)) * inv : 0);
    for (j = n; j < cols; j++) store<f32>(f(dr, j), 0);
  }
}

// --- loss -------------------------------------------------------------------------------------

/**
 * Weighted cross-entropy of R rows of A logits: returns scale · Σ_r w_r · (-log softmax(z_r)[y_r])
 * (computed in f64) and writes dz_r = scale · w_r · (softmax(z_r) - onehot(y_r)).
 */
export function crossEntropy(z: usize, labels: usize, weights: usize, R: i32, A: i32, scale: f32, dz: usize): f64 {
  let total: f64 = 0;
  for (let r = 0; r < R; r++) {
    const zr = f(z, r * A);
    const dr = f(dz, r * A);
    const w = load<f32>(f(weights, r));
    const y = load<i32>(f(labels, r));
    let m: f32 = -Infinity;
    for (let a = 0; a < A; a++) m = max(m, load<f32>(f(zr, a)));
    let s: f64 = 0;
    for (let a = 0; a < A; a++) s += <f64>Mathf.exp(load<f32>(f(zr, a)) - m);
    const lse = <f64>m + Math.log(s);
    total += <f64>w * (lse - <f64>load<f32>(f(zr, y)));
    const k: f32 = scale * w;
    for (let a = 0; a < A; a++) {
      const pa = <f32>(<f64>Mathf.exp(load<f32>(f(zr, a)) - m) / s);
      store<f32>(f(dr, a), k * (pa - (a == y ? <f32>1 : <f32>0)));
    }
  }
  return total * <f64>scale;
}

// --- optimizer --------------------------------------------------------------------------------

/** Σ x_i² in f64. */
export function sumSquares(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(f(x, i));
    s += v * v;
  }
  return s;
}

// --- machine peak -----------------------------------------------------------------------------

/**
 * The arithmetic peak of this build on this core, for the benchmark: `iters` rounds of 12
 * independent 4-lane multiply-adds on registers (no memory traffic). Returns a checksum so the
 * loop is not optimised away; the caller times it (flops = iters · 12 · 4 · 2).
 */
export function peakLoop(iters: i32): f32 {
  const m = f32x4.splat(0.999999);
  const a = f32x4.splat(1e-7);
  let x0 = f32x4.splat(1), x1 = f32x4.splat(2), x2 = f32x4.splat(3), x3 = f32x4.splat(4);
  let x4 = f32x4.splat(5), x5 = f32x4.splat(6), x6 = f32x4.splat(7), x7 = f32x4.splat(8);
  let x8 = f32x4.splat(9), x9 = f32x4.splat(10), x10 = f32x4.splat(11), x11 = f32x4.splat(12);
  for (let i = 0; i < iters; i++) {
    x0 = madd(x0, m, a); x1 = madd(x1, m, a); x2 = madd(x2, m, a); x3 = madd(x3, m, a);
    x4 = madd(x4, m, a); x5 = madd(x5, m, a); x6 = madd(x6, m, a); x7 = madd(x7, m, a);
    x8 = madd(x8, m, a); x9 = madd(x9, m, a); x10 = madd(x10, m, a); x11 = madd(x11, m, a);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7)));
  const t = f32x4.add(s, f32x4.add(f32x4.add(x8, x9), f32x4.add(x10, x11)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}
