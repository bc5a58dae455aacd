// Compile the AssemblyScript kernels (kernels/kernels.ts) twice: dist/kernels/icrl.wasm with
// SIMD128 and dist/kernels/icrl-fma.wasm with relaxed SIMD's fused multiply-add as well. Run by `npm run build`; the compiler is the pinned `assemblyscript` dev dependency,
// so a fresh `npm ci` builds the same bytes on any machine (no system toolchain).
import { mkdirSync, renameSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const variants = [
  { file: "icrl.wasm", flags: ["--enable", "simd"] },
  { file: "icrl-fma.wasm", flags: ["--enable", "simd", "--enable", "relaxed-simd"] },
];
for (const v of variants) {
  const out = join(root, "dist", "kernels", v.file);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const { error, stderr } = await asc.main([
    join(root, "kernels", "kernels.ts"),
    "--outFile", tmp,
    "--optimizeLevel", "3",
    "--shrinkLevel", "0",
    "--runtime", "stub",
    "--noAssert",
    "--initialMemory", "1",
    ...v.flags,
  ]);
  if (error) {
    process.stderr.write(stderr.toString());
    process.stderr.write(`kernel build failed (${v.file}): ${error.message}\n`);
    process.exit(1);
  }
  renameSync(tmp, out);
  const bytes = readFileSync(out);
  const sha = createHash("sha256").update(bytes).digest("hex");
  process.stdout.write(`kernels: dist/kernels/${v.file} (${bytes.length} bytes, sha256 ${sha.slice(0, 16)})\n`);
}
