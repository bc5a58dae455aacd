/**
 * Browser-safe pieces the playground uses: the pure-JS SHA-256 of src/nn/safetensors.ts (against
 * FIPS 180-4 test vectors and node:crypto) and checkpoint bytes verified without the file system.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { IcrlError } from "../src/core/errors.js";
import { paramsToHost } from "../src/nn/engine.js";
import { createTransformer } from "../src/nn/transformer.js";
import { saveCheckpoint } from "../src/nn/checkpoint.js";
import { checkpointFromBytes, sha256Hex } from "../src/nn/safetensors.js";

test("sha256Hex: FIPS 180-4 vectors and node:crypto on every length 0..300", () => {
  const enc = new TextEncoder();
  // FIPS 180-4 / NIST CSRC example values.
  assert.equal(sha256Hex(enc.encode("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex(enc.encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const rng = Rng.fromSeed(5);
  for (let n = 0; n <= 300; n++) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = rng.int(256);
    assert.equal(sha256Hex(b), createHash("sha256").update(b).digest("hex"), `length ${n}`);
  }
  const big = new Uint8Array(1_000_003).fill(97);
  assert.equal(sha256Hex(big), createHash("sha256").update(big).digest("hex"));
});

test("checkpointFromBytes verifies and loads what saveCheckpoint wrote (no file system)", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-pg-ck-"));
  try {
    const cfg = { backbone: "gpt", layout: "lin", tokenDim: 12, dModel: 8, numLayers: 1, numHeads: 2, numArms: 3, maxPositions: 16 } as const;
    const model = createTransformer(cfg);
    const params = model.init(Rng.fromSeed(1));
    const path = join(dir, "m.safetensors");
    saveCheckpoint(path, { config: model.config, params, step: 7, extra: { preset: "x", horizon: 4 } });
    const bytes = new Uint8Array(readFileSync(path));
    const ck = checkpointFromBytes(bytes, "m.safetensors");
    assert.equal(ck.step, 7);
    assert.deepEqual(ck.extra, { preset: "x", horizon: 4 });
    assert.deepEqual(paramsToHost(ck.params), paramsToHost(params));
    bytes[bytes.length - 1] ^= 1;
    assert.throws(() => checkpointFromBytes(bytes, "m.safetensors"), (e: unknown) => e instanceof IcrlError && /corrupted: tensor bytes have checksum/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
