/**
 * Scalar logs that TensorBoard reads (`tensorboard --logdir <run>/tensorboard`), written without
 * TensorFlow: an event file is a sequence of TFRecords, each
 *
 *   uint64 length (little-endian) | uint32 masked CRC-32C of the length bytes | data | uint32 masked CRC-32C of data
 *
 * (masked CRC = ((c >>> 15) | (c << 17)) + 0xa282ead8), whose data is a serialized `tensorflow.Event`
 * protocol buffer: wall_time (field 1, double), step (2, int64), file_version (3, string, first
 * record "brain.Event:2") or summary (5: Summary { repeated Value value = 1 }, Value { string tag = 1;
 * float simple_value = 2 }). No well-kept npm package writes these files without a native
 * TensorFlow build (tfjs-node downloads libtensorflow at install), so the ~80 lines are here.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/** CRC-32C (Castagnoli, reflected polynomial 0x82f63b78) lookup table. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `bytes` (check value: "123456789" → 0xe3069283). */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC. */
export function maskedCrc(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(data.length), true);
  v.setUint32(8, maskedCrc(out.subarray(0, 8)), true);
  out.set(data, 12);
  v.setUint32(12 + data.length, maskedCrc(data), true);
  return out;
}

/** Protocol-buffer writer for the few field types an Event needs. */
class Proto {
  private parts: number[] = [];
  private varint(n: bigint): void {
    let x = BigInt.asUintN(64, n);
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      this.parts.push(b);
    } while (x > 0n);
  }
  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  /** A little-endian IEEE float: 8 bytes (wire type 1, protobuf double) or 4 (wire type 5, float). */
  private fixed(field: number, x: number, width: 4 | 8): this {
    this.tag(field, width === 8 ? 1 : 5);
    const b = new Uint8Array(width);
    if (width === 8) new DataView(b.buffer).setFloat64(0, x, true);
    else new DataView(b.buffer).setFloat32(0, x, true);
    this.parts.push(...b);
    return this;
  }
  double(field: number, x: number): this {
    return this.fixed(field, x, 8);
  }
  float(field: number, x: number): this {
    return this.fixed(field, x, 4);
  }
  int64(field: number, x: number): this {
    this.tag(field, 0);
    this.varint(BigInt(x));
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(b.length));
    this.parts.push(...b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A serialized Event holding scalar values at one step. */
export function scalarEvent(wallTime: number, step: number, values: Record<string, number>): Uint8Array {
  const summary = new Proto();
  for (const [tag, v] of Object.entries(values)) summary.bytes(1, new Proto().string(1, tag).float(2, v).done());
  return new Proto().double(1, wallTime).int64(2, step).bytes(5, summary.done()).done();
}

/**
 * An event file in `dir` (one per writer: a resumed training run adds a file, and TensorBoard
 * merges the files of a folder). Each `scalars` call appends one record, so a killed run keeps
 * what it logged.
 */
export class TensorBoardWriter {
  readonly path: string;
  constructor(dir: string, now = Date.now()) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname().replace(/[^A-Za-z0-9._-]/g, "_")}.${process.pid}`);
    writeFileSync(this.path, tfRecord(new Proto().double(1, now / 1000).string(3, "brain.Event:2").done()));
  }
  scalars(step: number, values: Record<string, number | undefined>, now = Date.now()): void {
    const finite: Record<string, number> = {};
    for (const [k, v] of Object.entries(values)) if (v !== undefined && Number.isFinite(v)) finite[k] = v;
    if (Object.keys(finite).length) appendFileSync(this.path, tfRecord(scalarEvent(now / 1000, step, finite)));
  }
}
