/** `icrl serve`: serves a built playground folder, 404s outside it, and refuses a folder without a build. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../src/cli/commands/serve.js";
import { runCli } from "./helpers/cli.js";

test("serve: files with their content types, 404 for missing files and paths outside the folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-serve-"));
  try {
    writeFileSync(join(dir, "index.html"), "<!doctype html><p>hi</p>");
    mkdirSync(join(dir, "models"));
    writeFileSync(join(dir, "models", "m.safetensors"), new Uint8Array([1, 2, 3]));
    writeFileSync(join(tmpdir(), "icrl-serve-secret.txt"), "secret");
    const { server, url } = await startServer({ port: 0, host: "127.0.0.1", dir });
    try {
      const index = await fetch(url);
      assert.equal(index.status, 200);
      assert.match(index.headers.get("content-type")!, /text\/html/);
      assert.equal(await index.text(), "<!doctype html><p>hi</p>");
      const m = await fetch(url + "models/m.safetensors");
      assert.equal(m.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual(new Uint8Array(await m.arrayBuffer()), new Uint8Array([1, 2, 3]));
      assert.equal((await fetch(url + "nope.js")).status, 404);
      assert.equal((await fetch(url + "..%2Ficrl-serve-secret.txt")).status, 404);
    } finally {
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), "icrl-serve-secret.txt"), { force: true });
  }
});

test("icrl serve --dir without a build: one-line error, exit 2", () => {
  const r = runCli(["serve", "--dir", join(tmpdir(), "icrl-no-such-build"), "--port", "0"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^icrl: error: invalid --dir: .*icrl-no-such-build.* \(allowed: a folder with index\.html; run `npm run build:web` first\)\n$/);
  const bad = runCli(["serve", "--port", "70000"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^icrl: error: invalid port: 70000 \(allowed: an integer in \[0, 65535\]/);
});
