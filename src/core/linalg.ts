/**
 * Small dense linear algebra in float64 (row-major Float64Array), enough for the classic
 * algorithms (d <= ~50) and the LSA references. Not a general library.
 */

export type Mat = Float64Array; // row-major, shape given alongside

export function identity(n: number, scale = 1): Float64Array<ArrayBuffer> {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = scale;
  return m;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/** y = A x for A [n, m]. */
export function matVec(A: Mat, x: ArrayLike<number>, n: number, m: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += A[i * m + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** C = A B for A [n, k], B [k, m]. */
export function matMul(A: Mat, B: Mat, n: number, k: number, m: number, out = new Float64Array(n * m)): Float64Array {
  out.fill(0);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p];
      if (a === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += a * B[p * m + j];
    }
  return out;
}

export function transpose(A: Mat, n: number, m: number): Float64Array {
  const T = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) T[j * n + i] = A[i * m + j];
  return T;
}

/** Quadratic form x^T A x for symmetric A [n, n]. */
export function quadForm(A: Mat, x: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let j = 0; j < n; j++) r += A[i * n + j] * x[j];
    s += x[i] * r;
  }
  return s;
}

/**
 * Sherman-Morrison: given Vinv = V^{-1} (symmetric), update in place to (V + x x^T)^{-1}.
 */
export function shermanMorrisonUpdate(Vinv: Mat, x: ArrayLike<number>, n: number, tmp = new Float64Array(n)): void {
  matVec(Vinv, x, n, n, tmp); // u = Vinv x
  const denom = 1 + dot(x, tmp, n);
  for (let i = 0; i < n; i++) {
    const ui = tmp[i] / denom;
    for (let j = 0; j < n; j++) Vinv[i * n + j] -= ui * tmp[j];
  }
}

/** Lower-triangular Cholesky factor L with A = L L^T (A symmetric positive definite). */
export function cholesky(A: Mat, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`cholesky: matrix not positive definite (pivot ${s} at ${i})`);
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  return L;
}

/** Solve A x = b by Gaussian elimination with partial pivoting (A [n, n] copied). */
export function solve(A: Mat, b: ArrayLike<number>, n: number): Float64Array {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b as ArrayLike<number>);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    if (M[p * n + c] === 0) throw new RangeError("solve: singular matrix");
    if (p !== c) {
      for (let j = 0; j < n; j++) {
        const t = M[c * n + j];
        M[c * n + j] = M[p * n + j];
        M[p * n + j] = t;
      }
      const t = x[c];
      x[c] = x[p];
      x[p] = t;
    }
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] / M[c * n + c];
      if (f === 0) continue;
      for (let j = c; j < n; j++) M[r * n + j] -= f * M[c * n + j];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let j = r + 1; j < n; j++) s -= M[r * n + j] * x[j];
    x[r] = s / M[r * n + r];
  }
  return x;
}

/** Inverse of A [n, n] by solving against the identity columns. */
export function inverse(A: Mat, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    e.fill(0);
    e[c] = 1;
    const col = solve(A, e, n);
    for (let r = 0; r < n; r++) inv[r * n + c] = col[r];
  }
  return inv;
}

export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function norm2(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity of two vectors (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = norm2(a);
  const nb = norm2(b);
  return na === 0 || nb === 0 ? 0 : dot(a, b) / (na * nb);
}

/** Eigen-decomposition of a symmetric d×d matrix by cyclic Jacobi rotations: M = V diag(values) Vᵀ (V column-major in rows: V[i·d + k] = i-th coordinate of eigenvector k). */
export function symmetricEigen(M: ArrayLike<number>, d: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(M);
  const V = new Float64Array(d * d);
  for (let i = 0; i < d; i++) V[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let scale = 0;
    for (let a = 0; a < d; a++) {
      scale += A[a * d + a] ** 2;
      for (let b = a + 1; b < d; b++) off += A[a * d + b] ** 2;
    }
    if (off <= 1e-32 * scale) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q];
        if (apq === 0) continue;
        const theta = (A[q * d + q] - A[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = A[k * d + p];
          const akq = A[k * d + q];
          A[k * d + p] = c * akp - s * akq;
          A[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = A[p * d + k];
          const aqk = A[q * d + k];
          A[p * d + k] = c * apk - s * aqk;
          A[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = V[k * d + p];
          const vkq = V[k * d + q];
          V[k * d + p] = c * vkp - s * vkq;
          V[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = A[i * d + i];
  return { values, vectors: V };
}
