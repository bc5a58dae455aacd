/**
 * TensorBoard event files (src/report/tensorboard.ts): CRC-32C against its standard check value,
 * the record framing and the Event protocol buffer decoded field by field by an independent
 * reader below, and `icrl train --tensorboard` writing the run's metrics as scalars.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32c, maskedCrc, scalarEvent, tfRecord } from "../src/report/tensorboard.js";
import { runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-tb-"));

test("CRC-32C: the standard check value and RFC 3720's test vectors", () => {
  // check value of CRC-32C ("123456789"); RFC 3720 B.4: 32 bytes of zeros, of 0xff, ascending 0..31
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
});

/** Read TFRecords, checking both CRCs. */
function records(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let o = 0; o < buf.length; ) {
    const n = Number(v.getBigUint64(o, true));
    assert.equal(v.getUint32(o + 8, true), maskedCrc(buf.subarray(o, o + 8)), "length CRC");
    const data = buf.subarray(o + 12, o + 12 + n);
    assert.equal(v.getUint32(o + 12 + n, true), maskedCrc(data), "data CRC");
    out.push(data);
    o += 16 + n;
  }
  return out;
}

/** A minimal protobuf decoder: field number -> list of values (varint as bigint, fixed as bytes). */
function fields(b: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const m = new Map<number, (bigint | Uint8Array)[]>();
  let o = 0;
  const varint = () => {
    let x = 0n;
    let s = 0n;
    for (;;) {
      const c = b[o++];
      x |= BigInt(c & 0x7f) << s;
      s += 7n;
      if (!(c & 0x80)) return x;
    }
  };
  while (o < b.length) {
    const key = Number(varint());
    const f = key >> 3;
    const wire = key & 7;
    let v: bigint | Uint8Array;
    if (wire === 0) v = varint();
    else if (wire === 1) {
      v = b.subarray(o, o + 8);
      o += 8;
    } else if (wire === 5) {
      v = b.subarray(o, o + 4);
      o += 4;
    } else {
      const n = Number(varint());
      v = b.subarray(o, o + n);
      o += n;
    }
    m.set(f, [...(m.get(f) ?? []), v]);
  }
  return m;
}

const f64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
const f32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);

/** The scalars of an Event: {tag: value}. */
function scalars(ev: Uint8Array): { wall: number; step: number; values: Record<string, number> } {
  const f = fields(ev);
  const values: Record<string, number> = {};
  const summary = f.get(5)?.[0] as Uint8Array | undefined;
  if (summary)
    for (const v of fields(summary).get(1) ?? []) {
      const vf = fields(v as Uint8Array);
      values[new TextDecoder().decode(vf.get(1)![0] as Uint8Array)] = f32(vf.get(2)![0] as Uint8Array);
    }
  return { wall: f64(f.get(1)![0] as Uint8Array), step: Number(f.get(2)?.[0] ?? 0n), values };
}

test("an Event record decodes to its wall time, step and tagged scalars", () => {
  const [rec] = records(tfRecord(scalarEvent(1765000000.25, 300, { "loss/train": 1.5, lr: 0.001 })));
  const s = scalars(rec);
  assert.equal(s.wall, 1765000000.25);
  assert.equal(s.step, 300);
  assert.equal(s.values["loss/train"], 1.5);
  assert.equal(s.values.lr, Math.fround(0.001));
});

test("icrl train --tensorboard writes the run's metrics as TensorBoard scalars (and nothing without the flag)", () => {
  const data = join(tmp, "data");
  assert.equal(runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "16", "--val-tasks", "4", "--horizon", "8", "--seed", "1", "--out", data]).code, 0);
  const tiny = ["--layers", "1", "--d-model", "8", "--batch", "4", "--steps", "6", "--log-every", "2", "--eval-every", "2", "--checkpoint-every", "2", "--val-trajectories", "4", "--seed", "3"];
  const out = join(tmp, "run");
  const r = runCli(["train", "--data", data, ...tiny, "--tensorboard", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(join(out, "tensorboard"));
  assert.equal(files.length, 1);
  assert.match(files[0], /^events\.out\.tfevents\.\d{10}\./);
  const recs = records(new Uint8Array(readFileSync(join(out, "tensorboard", files[0]))));
  assert.equal(new TextDecoder().decode(fields(recs[0]).get(3)![0] as Uint8Array), "brain.Event:2");
  const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number; trainLoss?: number; valLoss?: number });
  const evs = recs.slice(1).map(scalars);
  assert.deepEqual(evs.map((e) => e.step), metrics.map((m) => m.step));
  metrics.forEach((m, i) => {
    if (m.trainLoss !== undefined) assert.equal(evs[i].values["loss/train"], Math.fround(m.trainLoss));
    if (m.valLoss !== undefined) assert.equal(evs[i].values["loss/validation"], Math.fround(m.valLoss));
    if (m.step > 0) assert.ok(evs[i].values["throughput/steps_per_second"] > 0);
  });
  // without the flag: no tensorboard folder (the run folder stays a pure function of config and seed)
  const plain = join(tmp, "plain");
  assert.equal(runCli(["train", "--data", data, ...tiny, "--out", plain]).code, 0);
  assert.ok(!existsSync(join(plain, "tensorboard")));
});
