/**
 * The browser-safe half of checkpoints (src/nn/checkpoint.ts holds the file-system wrappers): the
 * safetensors byte format (https://github.com/huggingface/safetensors), a pure-JS SHA-256 for the
 * tensor-bytes checksum, and `checkpointFromBytes`, which verifies checkpoint bytes fetched by the
 * browser playground or read from disk by `loadCheckpoint`. No Node built-ins are imported here.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a
 * multiple of 8), then the raw little-endian tensor bytes.
 */
import { IcrlError } from "../core/errors.js";
import type { RngState } from "../core/rng.js";
import { diffJson } from "./config.js";
import { type HostTensor, type Params, numel, toTensor, type Tensor } from "./engine.js";

export const CHECKPOINT_FORMAT = "icrl.checkpoint.v1";
const DTYPES = { float32: "F32", float64: "F64", int32: "I32" } as const;
const FROM_ST: Record<string, HostTensor["dtype"]> = { F32: "float32", F64: "float64", I32: "int32" };
const BYTES: Record<HostTensor["dtype"], number> = { float32: 4, float64: 8, int32: 4 };

/** Serialise host tensors and string metadata to safetensors bytes (names sorted). */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const k of names) {
    const t = tensors[k];
    const len = t.data.length * BYTES[t.dtype];
    header[k] = { dtype: DTYPES[t.dtype], shape: t.shape, data_offsets: [off, off + len] };
    off += len;
  }
  const enc = new TextEncoder();
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (enc.encode(json).length % 8)) % 8);
  const hbytes = enc.encode(json);
  const out = new Uint8Array(8 + hbytes.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const k of names) {
    const t = tensors[k];
    // Typed arrays are little-endian on every platform Node and the browsers run on (x86, arm64).
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, pos);
    pos += bytes.length;
  }
  return out;
}

/** Parse safetensors bytes; throws IcrlError (mentioning `source`) on any inconsistency. */
export function decodeSafetensors(buf: Uint8Array, source = "checkpoint"): { tensors: Record<string, HostTensor>; metadata: Record<string, string>; dataBytes: Uint8Array } {
  const bad = (why: string): never => {
    throw new IcrlError(`${source} is corrupted or truncated: ${why}`);
  };
  if (buf.length < 8) bad(`file has ${buf.length} bytes, less than the 8-byte header length`);
  const n = Number(new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true));
  if (!(n > 1 && n <= 100_000_000 && 8 + n <= buf.length)) bad(`header length ${n} does not fit in a file of ${buf.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch {
    return bad("the JSON header does not parse");
  }
  if (!header || typeof header !== "object") bad("the header is not a JSON object");
  const data = buf.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors: Record<string, HostTensor> = {};
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (!v || typeof v !== "object" || Array.isArray(v)) bad(`tensor "${name}" is not a {dtype, shape, data_offsets} object`);
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = (typeof e.dtype === "string" && Object.hasOwn(FROM_ST, e.dtype) ? FROM_ST[e.dtype] : undefined)!;
    if (!dtype) bad(`tensor "${name}" has unsupported dtype ${JSON.stringify(e.dtype)} (F32, F64, I32 are read)`);
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isInteger(s) && s >= 0)) bad(`tensor "${name}" has a bad shape`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) bad(`tensor "${name}" has data_offsets ${JSON.stringify(e.data_offsets)} (allowed: [begin, end])`);
    const [a, b] = e.data_offsets!;
    const len = numel(e.shape!) * BYTES[dtype];
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b - a === len)) bad(`tensor "${name}" has offsets [${a}, ${b}] for ${len} bytes`);
    if (b > data.length) bad(`tensor "${name}" ends at byte ${b} but the file holds ${data.length} data bytes`);
    spans.push([a, b, name]);
    const bytes = new Uint8Array(b - a); // a copy, aligned for the typed array (a subarray would alias)
    bytes.set(data.subarray(a, b));
    const arr = dtype === "float64" ? new Float64Array(bytes.buffer) : dtype === "int32" ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    tensors[name] = { dtype, shape: e.shape!, data: arr };
  }
  spans.sort((x, y) => x[0] - y[0]);
  let end = 0;
  for (const [a, b, name] of spans) {
    if (a !== end) bad(`tensor "${name}" starts at byte ${a}, expected ${end} (gap or overlap)`);
    end = b;
  }
  if (end !== data.length) bad(`tensors cover ${end} data bytes but the file holds ${data.length}`);
  return { tensors, metadata, dataBytes: data };
}

// --- SHA-256 (FIPS 180-4), pure JS -----------------------------------------------------------

const K256 = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 of `bytes` as lowercase hex (pure JS; used where node:crypto is unavailable). */
export function sha256Hex(bytes: Uint8Array): string {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const len = bytes.length;
  // Padded message: bytes, 0x80, zeros, 64-bit big-endian bit length; processed block by block.
  const tailLen = ((len + 9 + 63) & ~63) - Math.floor(len / 64) * 64;
  const tail = new Uint8Array(tailLen);
  const fullBlocks = Math.floor(len / 64);
  tail.set(bytes.subarray(fullBlocks * 64));
  tail[len - fullBlocks * 64] = 0x80;
  const bits = len * 8;
  const tv = new DataView(tail.buffer);
  tv.setUint32(tailLen - 8, Math.floor(bits / 0x100000000));
  tv.setUint32(tailLen - 4, bits >>> 0);
  const block = (src: Uint8Array, off: number): void => {
    for (let i = 0; i < 16; i++) w[i] = (src[off + 4 * i] << 24) | (src[off + 4 * i + 1] << 16) | (src[off + 4 * i + 2] << 8) | src[off + 4 * i + 3];
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (k + S1 + ch + K256[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
  };
  for (let i = 0; i < fullBlocks; i++) block(bytes, i * 64);
  for (let off = 0; off < tailLen; off += 64) block(tail, off);
  return Array.from(h, (x) => x.toString(16).padStart(8, "0")).join("");
}

// --- checkpoints from bytes ------------------------------------------------------------------

/** What a checkpoint holds. */
export interface Checkpoint {
  /** The (validated) model config, as saved. */
  config: unknown;
  params: Params;
  /** Completed optimizer steps. */
  step: number;
  /** Optimizer config and state (keys as in `OptState`), if saved. */
  optimizer?: { config: unknown; state: { [k: string]: Tensor } };
  /** Rng `state()` to resume the run's random stream exactly, if saved. */
  rng?: RngState;
  /** Caller JSON (e.g. the run config), if saved. */
  extra?: unknown;
  /** A training run's metrics.jsonl up to this checkpoint's step (metadata `log`), to verify or rebuild it on resume. */
  log?: string;
}

export interface LoadOptions {
  /**
   * The config the caller's model has. If given, loading fails with an IcrlError listing every
   * differing field unless the saved config is identical.
   */
  expectConfig?: unknown;
}

/**
 * The bytes covered by `header_checksum`: the JSON header, re-serialised without that one key.
 * (Files written before it existed have no `header_checksum`; only their tensor bytes are covered.)
 */
export function headerBytesForChecksum(buf: Uint8Array): Uint8Array {
  const n = Number(new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as { __metadata__?: Record<string, string> };
  if (header.__metadata__ && typeof header.__metadata__ === "object") delete header.__metadata__.header_checksum;
  return new TextEncoder().encode(JSON.stringify(header));
}

/**
 * Verify checkpoint bytes (header, offsets, sizes, checksum, format, config) and only then create
 * tensors. `source` names the file or URL in errors; `sha256` may be a faster native hash.
 */
export function checkpointFromBytes(buf: Uint8Array, source: string, opts: LoadOptions = {}, sha256: (b: Uint8Array) => string = sha256Hex): Checkpoint {
  const { tensors, metadata, dataBytes } = decodeSafetensors(buf, `checkpoint ${source}`);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new IcrlError(`checkpoint ${source} has format ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}"`);
  const sum = "sha256:" + sha256(dataBytes);
  if (metadata.checksum !== sum) throw new IcrlError(`checkpoint ${source} is corrupted: tensor bytes have checksum ${sum}, the header records ${metadata.checksum}`);
  if (metadata.header_checksum !== undefined) {
    const hsum = "sha256:" + sha256(headerBytesForChecksum(buf));
    if (metadata.header_checksum !== hsum) throw new IcrlError(`checkpoint ${source} is corrupted: the header (metadata, tensor names, shapes, offsets) has checksum ${hsum}, the header records ${metadata.header_checksum}`);
  }
  const parse = (k: string): unknown => {
    try {
      return JSON.parse(metadata[k]);
    } catch {
      throw new IcrlError(`checkpoint ${source} is corrupted: metadata "${k}" is not JSON`);
    }
  };
  const config = parse("config");
  if (opts.expectConfig !== undefined) {
    const diffs = diffJson(config, JSON.parse(JSON.stringify(opts.expectConfig)));
    if (diffs.length) throw new IcrlError(`checkpoint ${source} was saved for a different model config (saved vs expected): ${diffs.join("; ")}`);
  }
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new IcrlError(`checkpoint ${source} is corrupted: step ${JSON.stringify(metadata.step)}`);
  // Everything is verified: now create tensors.
  const params: Params = {};
  const state: { [k: string]: Tensor } = {};
  for (const k of Object.keys(tensors).sort()) {
    if (k.startsWith("optim.")) state[k.slice(6)] = toTensor(tensors[k]);
    else params[k] = toTensor(tensors[k]);
  }
  const ck: Checkpoint = { config, params, step };
  if (metadata.optimizer !== undefined) ck.optimizer = { config: parse("optimizer"), state };
  if (metadata.rng !== undefined) ck.rng = parse("rng") as RngState;
  if (metadata.extra !== undefined) ck.extra = parse("extra");
  if (metadata.log !== undefined) ck.log = metadata.log;
  return ck;
}
