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
 *   header_checksum  "sha256:<hex>" of the JSON header without this key (metadata, names,
 *               shapes, offsets); files without it (older) are checked on their tensor bytes only
 * Files are written atomically (src/core/io.ts). Loading validates everything (header, offsets,
 * sizes, checksum, config) before creating a single tensor, so a bad file is never half-loaded.
 * The format and the verification (browser-safe, no Node built-ins) are in safetensors.ts; this
 * file adds the file-system wrappers.
 */
import { createHash } from "node:crypto";
import { MAX_MODEL_BYTES, readInputBytes } from "../core/input-file.js";
import { writeFileAtomic } from "../core/io.js";
import { paramsToHost, type HostTensor } from "./engine.js";
import { CHECKPOINT_FORMAT, checkpointFromBytes, encodeSafetensors, headerBytesForChecksum, type Checkpoint, type LoadOptions } from "./safetensors.js";

// The byte format, the checksum and the verification live in the browser-safe ./safetensors.ts.
export { decodeSafetensors, encodeSafetensors, checkpointFromBytes, sha256Hex, type Checkpoint, type LoadOptions } from "./safetensors.js";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Write a checkpoint atomically (temp file, fsync, rename). Does not consume the tensors. */
export function saveCheckpoint(path: string, ck: Checkpoint): void {
  const tensors: Record<string, HostTensor> = paramsToHost(ck.params);
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, config: JSON.stringify(ck.config), step: String(ck.step) };
  if (ck.optimizer) {
    metadata.optimizer = JSON.stringify(ck.optimizer.config);
    const st = paramsToHost(ck.optimizer.state);
    for (const k of Object.keys(st)) tensors[`optim.${k}`] = st[k];
  }
  if (ck.rng) metadata.rng = JSON.stringify(ck.rng);
  if (ck.extra !== undefined) metadata.extra = JSON.stringify(ck.extra);
  if (ck.log !== undefined) metadata.log = ck.log;
  // Checksum over the tensor bytes in file order (names sorted).
  const dataOnly = encodeSafetensors(tensors, {});
  const n = Number(new DataView(dataOnly.buffer).getBigUint64(0, true));
  metadata.checksum = "sha256:" + sha256(dataOnly.subarray(8 + n));
  // And over the header itself, so that a damaged step, config, RNG state or shape is caught too.
  metadata.header_checksum = "sha256:" + sha256(headerBytesForChecksum(encodeSafetensors(tensors, metadata)));
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Read and verify a checkpoint. Errors (IcrlError): unreadable file, not a regular file (a device,
 * FIFO or folder) or over MAX_MODEL_BYTES, truncated or corrupted bytes (header, offsets, sizes,
 * checksum), a different format, or a config mismatch.
 */
export function loadCheckpoint(path: string, opts: LoadOptions = {}): Checkpoint {
  const buf = readInputBytes(path, { what: "checkpoint", maxBytes: MAX_MODEL_BYTES });
  return checkpointFromBytes(buf, path, opts, sha256);
}
