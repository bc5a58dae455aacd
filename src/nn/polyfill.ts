/**
 * Node 20 polyfills that @jax-js/jax 0.1.25 needs. This module must be evaluated before
 * `@jax-js/jax` is imported; `engine.ts` imports it first (ES modules evaluate imports in order).
 *
 * - ES2025 iterator helpers (`Iterator.prototype.map`, ...): `np.einsum` and a few other ops call
 *   `matchAll(...).map`, which throws on Node 20 without them.
 * - `Float16Array`: `np.array(Float64Array)` tests `instanceof Float16Array`, a ReferenceError on
 *   Node 20. An empty class is enough: nothing is ever an instance.
 */
import "core-js/actual/iterator/index.js";

const g = globalThis as { Float16Array?: unknown };
g.Float16Array ??= class Float16ArrayPlaceholder {};

export {};
