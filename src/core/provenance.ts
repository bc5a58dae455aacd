/**
 * What produced a result: the icrl version (package.json) and, in a git checkout, the commit
 * (read from .git without running git). Recorded in every results.json.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface Provenance {
  icrl: string;
  commit: string | null;
  node: string;
}

function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = resolve(dir, "..");
    if (up === dir) return null;
    dir = up;
  }
}

/** The commit checked out at `root` (a 40-hex id), or null when it is not a git checkout. */
export function gitCommit(root: string): string | null {
  try {
    let git = join(root, ".git");
    if (!existsSync(git)) return null;
    // A worktree or submodule: ".git" is a file "gitdir: <path>".
    if (statSync(git).isFile()) git = resolve(root, readFileSync(git, "utf8").replace(/^gitdir:/, "").trim());
    const head = readFileSync(join(git, "HEAD"), "utf8").trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return null;
    const loose = join(git, ref);
    if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
    const packed = existsSync(join(git, "packed-refs")) ? readFileSync(join(git, "packed-refs"), "utf8") : "";
    for (const line of packed.split("\n")) {
      const [sha, name] = line.split(" ");
      if (name === ref && /^[0-9a-f]{40}$/.test(sha)) return sha;
    }
    return null;
  } catch {
    return null;
  }
}

let cached: Provenance | null = null;

export function provenance(): Provenance {
  if (cached) return cached;
  const root = packageRoot();
  let version = "unknown";
  try {
    if (root) version = String((JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: unknown }).version ?? "unknown");
  } catch {
    /* keep "unknown" */
  }
  cached = { icrl: version, commit: root ? gitCommit(root) : null, node: process.versions.node };
  return cached;
}
