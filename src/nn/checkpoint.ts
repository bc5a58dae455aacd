/**
 * Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), written by
 * hand: an 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a
 * multiple of 8), then the raw little-endian tensor bytes. Python's `safetensors` and
 * `safetensors.torch.load_file` read these files.
 *
 * Tensors: the parameters under their own names, the optimizer state as `optim.<key>` (AdamW:
 * `optim.m.<param>`, `optim.v.<param>`). `__metadata__` (string values only) records:
 *   format      "icrl.checkpoint.v1"
 *   config      the model config (JSON)
 *   step        completed optimizer steps
 *   optimizer   the optimizer config (JSON), if saved
 *   rng         the Rng `state()` (JSON), if saved
 *   extra       any caller JSON (e.g. the run config), if saved
 *   checksum    "sha256:<hex>" of all tensor bytes
 * Files are written atomically (src/core/io.ts). Loading validates everything (header, offsets,
 * sizes, checksum, config) before creating a single tensor, so a bad file is never half-loaded.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { IcrlError } from "../core/errors.js";
import { writeFileAtomic } from "../core/io.js";
import type { RngState } from "../core/rng.js";
import { diffJson } from "./config.js";
import { type HostTensor, type Params, numel, paramsToHost, toTensor, type Tensor } from "./engine.js";

const FORMAT = "icrl.checkpoint.v1";
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
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const hbytes = Buffer.from(json, "utf8");
  const out = new Uint8Array(8 + hbytes.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const k of names) {
    const t = tensors[k];
    // Typed arrays are little-endian on every platform Node runs on (x86, arm64).
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
    header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString("utf8")) as Record<string, unknown>;
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
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = FROM_ST[e.dtype ?? ""];
    if (!dtype) bad(`tensor "${name}" has unsupported dtype ${JSON.stringify(e.dtype)} (F32, F64, I32 are read)`);
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isInteger(s) && s >= 0)) bad(`tensor "${name}" has a bad shape`);
    const [a, b] = e.data_offsets ?? [-1, -1];
    const len = numel(e.shape!) * BYTES[dtype];
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b - a === len)) bad(`tensor "${name}" has offsets [${a}, ${b}] for ${len} bytes`);
    if (b > data.length) bad(`tensor "${name}" ends at byte ${b} but the file holds ${data.length} data bytes`);
    spans.push([a, b, name]);
    const bytes = new Uint8Array(b - a); // a copy, aligned for the typed array (Buffer.slice would alias)
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

function sha256(bytes: Uint8Array): string {
  return "sha256:" + createHash("sha256").update(bytes).digest("hex");
}

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
}

/** Write a checkpoint atomically (temp file, fsync, rename). Does not consume the tensors. */
export function saveCheckpoint(path: string, ck: Checkpoint): void {
  const tensors: Record<string, HostTensor> = paramsToHost(ck.params);
  const metadata: Record<string, string> = { format: FORMAT, config: JSON.stringify(ck.config), step: String(ck.step) };
  if (ck.optimizer) {
    metadata.optimizer = JSON.stringify(ck.optimizer.config);
    const st = paramsToHost(ck.optimizer.state);
    for (const k of Object.keys(st)) tensors[`optim.${k}`] = st[k];
  }
  if (ck.rng) metadata.rng = JSON.stringify(ck.rng);
  if (ck.extra !== undefined) metadata.extra = JSON.stringify(ck.extra);
  // Checksum over the tensor bytes in file order (names sorted).
  const dataOnly = encodeSafetensors(tensors, {});
  const n = Number(new DataView(dataOnly.buffer).getBigUint64(0, true));
  metadata.checksum = sha256(dataOnly.subarray(8 + n));
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface LoadOptions {
  /**
   * The config the caller's model has. If given, loading fails with an IcrlError listing every
   * differing field unless the saved config is identical.
   */
  expectConfig?: unknown;
}

/**
 * Read and verify a checkpoint. Errors (IcrlError): unreadable file, truncated or corrupted bytes
 * (header, offsets, sizes, checksum), a different format, or a config mismatch.
 */
export function loadCheckpoint(path: string, opts: LoadOptions = {}): Checkpoint {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new IcrlError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  const { tensors, metadata, dataBytes } = decodeSafetensors(buf, `checkpoint ${path}`);
  if (metadata.format !== FORMAT) throw new IcrlError(`checkpoint ${path} has format ${JSON.stringify(metadata.format)}, expected "${FORMAT}"`);
  const sum = sha256(dataBytes);
  if (metadata.checksum !== sum) throw new IcrlError(`checkpoint ${path} is corrupted: tensor bytes have checksum ${sum}, the header records ${metadata.checksum}`);
  const parse = (k: string): unknown => {
    try {
      return JSON.parse(metadata[k]);
    } catch {
      throw new IcrlError(`checkpoint ${path} is corrupted: metadata "${k}" is not JSON`);
    }
  };
  const config = parse("config");
  if (opts.expectConfig !== undefined) {
    const diffs = diffJson(config, JSON.parse(JSON.stringify(opts.expectConfig)));
    if (diffs.length) throw new IcrlError(`checkpoint ${path} was saved for a different model config (saved vs expected): ${diffs.join("; ")}`);
  }
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new IcrlError(`checkpoint ${path} is corrupted: step ${JSON.stringify(metadata.step)}`);
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
  return ck;
}
