// Compile the AssemblyScript kernels (kernels/kernels.ts) into dist/kernels/icrl.wasm with
// SIMD128. Run by `npm run build`; the compiler is the pinned `assemblyscript` dev dependency,
// so a fresh `npm ci` builds the same bytes on any machine (no system toolchain).
import { mkdirSync, renameSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "kernels", "icrl.wasm");
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const { error, stderr } = await asc.main([
  join(root, "kernels", "kernels.ts"),
  "--outFile", tmp,
  "--optimizeLevel", "3",
  "--shrinkLevel", "0",
  "--runtime", "stub",
  "--noAssert",
  "--enable", "simd",
  "--initialMemory", "1",
]);
if (error) {
  process.stderr.write(stderr.toString());
  process.stderr.write(`kernel build failed: ${error.message}\n`);
  process.exit(1);
}
renameSync(tmp, out);
const sha = createHash("sha256").update(readFileSync(out)).digest("hex");
process.stdout.write(`kernels: dist/kernels/icrl.wasm (${readFileSync(out).length} bytes, sha256 ${sha.slice(0, 16)})\n`);
