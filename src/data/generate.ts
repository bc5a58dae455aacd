/**
 * Dataset generation for both task kinds: shards as deterministic work units, spread over worker
 * threads, resumable. Each kind gives its shard units and how to write and verify one
 * (`ShardKind`); the work folder rules are one:
 *
 * Work happens in `<out>.partial/`; `generation.json` there records the spec. A re-run with the
 * same spec keeps every shard whose shard.json and checksums verify and regenerates the rest;
 * the manifest is written last and the folder renamed to `<out>`, so `<out>` only ever holds a
 * complete dataset, and an `<out>` that is not a dataset is refused before any work. Results are
 * byte-identical whatever the number of workers, and whatever the moment an earlier run was
 * killed (kill -9 included): files are written atomically, a shard counts as done only once its
 * shard.json (written last) verifies, and leftovers of a killed write (temporary files,
 * half-written shard folders) are removed before resuming.
 *
 * With `part` (k of N), only the units j with j mod N = k are generated and `<out>` becomes a
 * part (manifest format "icrl-bandit-dataset-part" / "icrl-mdp-dataset-part"); `icrl merge`
 * joins the N parts.
 */
import { existsSync, readFileSync, rmSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IcrlError } from "../core/errors.js";
import { checkFreeSpace } from "../core/resources.js";
import { checkOutPath, killPoint, removePath, removeTempFiles, renamePath, runCommand, writeJsonAtomic } from "../core/io.js";
import { withOutLock } from "../core/lock.js";
import { buildManifest, canonicalJson, checkShardMemory, datasetDiskBytes, shardPath, shardUnits, verifiedShard, writeShard, buildMdpManifest, type GenerationSpec, type Manifest, type ShardMeta, shardedDiskBytes, checkMdpSpec, mdpColumnLayout, mdpShardUnits, type MdpGenerationSpec, type MdpManifest, isMdpSpec } from "./dataset.js";
import { takesUnit, type ShardSpec } from "./shard.js";
import { runShardPool, type ShardUnit } from "./shard-pool.js";
import { parseMdpEnvParams } from "../envs/tabular-mdp.js";

// ---- the work folder, and bandits ----

export interface GenerateOptions {
  workers?: number;
  onShard?: (tasks: number) => void;
  /** Only generate these units and stop before the manifest (leaves `<out>.partial`; for tests). */
  only?: (unitIndex: number) => boolean;
  /** Generate part k of N (the units j with j mod N = k) into a part folder at `out`. */
  part?: ShardSpec;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new IcrlError(`${what} ${path} is not valid JSON (${(e as Error).message.split("\n")[0]}); remove it to start over`);
  }
}

/**
 * Refuse a generation that cannot fit on the disk holding `out` (with 5% to spare): every file's
 * size rounded up to the filesystem's block size, printed in units that suit it (KB, MB, GB).
 */
function checkDisk(spec: GenerationSpec, out: string, part?: ShardSpec): void {
  checkDatasetDisk(out, part, (blockSize, select) => datasetDiskBytes(spec, blockSize, select), "fewer --tasks, a shorter --horizon, or --shard k/N across machines");
}

/**
 * The disk pre-check of any sharded dataset (bandit or MDP): `need(blockSize, select)` gives the
 * bytes of the work units `select` takes (all of them without a part).
 */
export function checkDatasetDisk(out: string, part: ShardSpec | undefined, need: (blockSize: number, select?: (unit: number) => boolean) => number, allowed: string): void {
  let dir = dirname(resolve(out));
  while (!existsSync(dir)) dir = dirname(dir);
  checkFreeSpace({
    what: part ? `part ${part.index}/${part.count} of the dataset` : "the dataset",
    dir,
    need: (blockSize) => need(blockSize, part ? (u) => takesUnit(part, u) : undefined),
    allowed,
  });
}

/** Where a generation stands: already complete at `out`, or in progress in `root`. */
export type Opened<M = Manifest> = { done: M; root?: undefined } | { done?: undefined; root: string };

/**
 * Check `out` and open (or reopen) its work folder `<out>.partial` for `spec`: refuse a different
 * config or a folder that is not ours, record the spec in generation.json, and remove leftovers of
 * killed writes when `clean` (only safe while no other process writes there).
 */
export function openGeneration(spec: GenerationSpec, out: string, part?: ShardSpec, clean = true): Opened {
  return openGenerationFolder<Manifest>(spec, out, part, clean, {
    memory: () => checkShardMemory(spec),
    disk: () => checkDisk(spec, out, part),
  });
}

/**
 * The dataset-kind-independent part of openGeneration (bandit and MDP datasets): `checks.memory`
 * runs before any work, `checks.disk` before a new generation starts.
 */
export function openGenerationFolder<M extends { spec: unknown; part?: unknown }>(spec: unknown, out: string, part: ShardSpec | undefined, clean: boolean, checks: { memory(): void; disk(): void }): Opened<M> {
  const manifestPath = join(out, "manifest.json");
  if (existsSync(manifestPath)) {
    const existing = readJson(manifestPath, "dataset manifest") as M;
    const same = existing && typeof existing === "object" && canonicalJson(existing.spec) === canonicalJson(spec) && canonicalJson(existing.part ?? null) === canonicalJson(part ?? null);
    if (!same) throw new IcrlError(`invalid --out: ${JSON.stringify(out)} already holds a dataset with a different config (allowed: a new folder, or remove the old one)`);
    rmSync(join(out, "generation.json"), { force: true }); // left if killed right after the final rename
    return { done: existing };
  }
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
    throw new IcrlError(`invalid --out: ${JSON.stringify(out)} exists and is not an icrl dataset (allowed: a new or empty folder)`);
  }
  checks.memory();
  const root = `${out}.partial`;
  const genPath = join(root, "generation.json");
  const record = { spec, part: part ?? null };
  if (existsSync(genPath)) {
    const prev = readJson(genPath, "interrupted generation record") as { spec?: unknown; part?: unknown };
    if (canonicalJson(prev?.spec) !== canonicalJson(spec) || canonicalJson(prev?.part ?? null) !== canonicalJson(record.part)) {
      throw new IcrlError(`invalid --out: ${JSON.stringify(root)} holds an interrupted generation with a different config (allowed: the same config to resume it, or remove that folder)`);
    }
    if (clean) removeTempFiles(root);
  } else {
    if (clean) removeTempFiles(root); // a kill while generation.json was first written
    if (existsSync(root) && readdirSync(root).length > 0) {
      throw new IcrlError(`invalid --out: ${JSON.stringify(root)} exists without generation.json, so it is not an interrupted icrl generation (allowed: remove that folder)`);
    }
    checks.disk();
    mkdirSync(root, { recursive: true });
    killPoint(`mkdir ${root}`);
    writeJsonAtomic(genPath, record);
  }
  return { root };
}

/**
 * How one kind of dataset (bandit or MDP) opens its work folder, writes and checks the shard of a
 * work unit, and lists the shards in its manifest: all that generation, `icrl merge` and the job
 * queue need to know of a kind.
 */
export interface ShardKind<M extends AnyManifest = AnyManifest> {
  spec: GenerationSpec | MdpGenerationSpec;
  units: ShardUnit[];
  /** openGenerationFolder with this kind's memory and disk checks */
  open(out: string, part: ShardSpec | undefined, clean: boolean): Opened<M>;
  write(root: string, u: ShardUnit): ShardMeta;
  verified(root: string, u: ShardUnit): ShardMeta | null;
  /** the manifest listing the verified shards `metas` (a part's manifest with `part`) */
  manifest(metas: (ShardMeta | null)[], part?: ShardSpec): M;
}

export type AnyManifest = Manifest | MdpManifest;

/** A shard kind from its spec, units, work-folder opening and manifest; shards are written and verified alike for both kinds. */
function shardKind<M extends AnyManifest>(spec: GenerationSpec | MdpGenerationSpec, units: ShardUnit[], open: ShardKind<M>["open"], manifest: ShardKind<M>["manifest"]): ShardKind<M> {
  return {
    spec,
    units,
    open,
    manifest,
    write: (root, u) => writeShard(root, spec, u.split, u.index, u.first, u.count),
    verified: (root, u) => verifiedShard(root, spec, u.split, u.index, u.first, u.count),
  };
}

/** Bandit datasets (src/data/dataset.ts) as a shard kind. */
export function banditShards(spec: GenerationSpec): ShardKind<Manifest> {
  const units = shardUnits(spec);
  return shardKind(spec, units, (out, part, clean) => openGeneration(spec, out, part, clean), (metas, part) => buildManifest(spec, units, metas, part));
}

/** MDP datasets (src/data/dataset.ts) as a shard kind. */
export function mdpShards(spec: MdpGenerationSpec): ShardKind<MdpManifest> {
  const units = mdpShardUnits(spec);
  const open: ShardKind<MdpManifest>["open"] = (out, part, clean) => openGenerationFolder<MdpManifest>(spec, out, part, clean, { memory: () => {}, disk: () => checkMdpDisk(spec, out, part) });
  return shardKind(spec, units, open, (metas, part) => buildMdpManifest(spec, units, metas, part));
}

/** The shard kind of a dataset spec of either kind (an MDP spec has a `kind`: dpt or ad). */
export function shardKindOf(spec: GenerationSpec | MdpGenerationSpec): ShardKind {
  return isMdpSpec(spec) ? mdpShards(spec) : banditShards(spec);
}

/**
 * Verified shards under `root` among the selected units, and the units still to do; with `clean`,
 * the half-written folder of a unit that does not verify is removed.
 */
export function scanShards(root: string, k: ShardKind, select: (unit: number) => boolean, clean = true): { metas: (ShardMeta | null)[]; todo: number[] } {
  const metas: (ShardMeta | null)[] = k.units.map(() => null);
  const todo: number[] = [];
  k.units.forEach((u, i) => {
    if (!select(i)) return;
    const m = k.verified(root, u);
    if (m) metas[i] = m;
    else {
      if (clean) rmSync(join(root, shardPath(u.split, u.index)), { recursive: true, force: true });
      todo.push(i);
    }
  });
  return { metas, todo };
}

/** Write the shards `todo` under `root`, in this thread or on `workers` worker threads (same bytes). */
export async function writeShards(root: string, k: ShardKind, todo: number[], metas: (ShardMeta | null)[], opts: { workers?: number; onShard?: (count: number) => void }): Promise<void> {
  const nWorkers = Math.max(1, Math.min(opts.workers ?? Math.min(2, cpus().length), todo.length));
  const workerFile = fileURLToPath(new URL("./gen-worker.js", import.meta.url));
  if (nWorkers <= 1 || !existsSync(workerFile)) {
    for (const i of todo) {
      metas[i] = k.write(root, k.units[i]);
      opts.onShard?.(k.units[i].count);
    }
    return;
  }
  await runShardPool({ workerFile, nWorkers, todo, units: k.units, context: { root, spec: k.spec }, metas, onShard: opts.onShard });
}

/**
 * Write the manifest into `root` and rename it to `out` (the last step of every generation). Each
 * step leaves a state the next run completes: a manifest in `out` means done (generation.json,
 * if still there, is removed when the dataset is opened).
 */
export function finishGeneration(root: string, out: string, manifest: object): void {
  removePath(join(root, ".staging"));
  writeJsonAtomic(join(root, "manifest.json"), manifest);
  if (existsSync(out)) removePath(out); // an empty folder (checked when opened)
  renamePath(root, out);
  removePath(join(out, "generation.json"));
}

/** Generate (or resume) a dataset, or one part of it, at `out`. Returns the manifest. */
export async function generateDataset(spec: GenerationSpec, out: string, opts: GenerateOptions = {}): Promise<Manifest> {
  checkOutPath(out);
  return withOutLock(out, runCommand(), () => generateLocked(spec, out, opts));
}

async function generateLocked(spec: GenerationSpec, out: string, opts: GenerateOptions): Promise<Manifest> {
  const opened = openGeneration(spec, out, opts.part);
  if (opened.done) return opened.done;
  const root = opened.root;
  const kind = banditShards(spec);
  const { metas, todo } = scanShards(root, kind, (k) => (!opts.only || opts.only(k)) && (!opts.part || takesUnit(opts.part, k)));
  metas.forEach((m) => m && opts.onShard?.(m.count));
  await writeShards(root, kind, todo, metas, opts);
  const manifest = kind.manifest(metas, opts.part);
  if (opts.only) return manifest;
  finishGeneration(root, out, manifest);
  return manifest;
}

// ---- MDPs ----

/** The options of an MDP generation: those of a bandit one but the test-only `only`. */
export type MdpGenerateOptions = Omit<GenerateOptions, "only">;

/**
 * An MDP spec as its manifest records it, checked: the complete environment parameters (defaults
 * filled in), so that a dataset reads the same whatever later defaults become, and a missing field
 * is an error.
 */
export function completeMdpSpec(given: MdpGenerationSpec): MdpGenerationSpec {
  const spec: MdpGenerationSpec = { ...given, envParams: { ...parseMdpEnvParams(given.env, given.envParams) } };
  checkMdpSpec(spec);
  return spec;
}

/** Generate (or resume, or find complete) an MDP dataset at `out`. */
export async function generateMdpDataset(given: MdpGenerationSpec, out: string, opts: MdpGenerateOptions = {}): Promise<MdpManifest> {
  const spec = completeMdpSpec(given);
  checkOutPath(out);
  return withOutLock(out, runCommand(), () => generateMdpLocked(spec, out, opts));
}

/** Refuse a new MDP generation that cannot fit on the disk holding `out` (as for bandit datasets). */
function checkMdpDisk(spec: MdpGenerationSpec, out: string, part?: ShardSpec): void {
  checkDatasetDisk(out, part, (blockSize, select) => shardedDiskBytes(spec, (count) => mdpColumnLayout(spec, count), blockSize, select), "fewer --tasks, a shorter --context-length or fewer --episodes, or --shard k/N across machines");
}

async function generateMdpLocked(spec: MdpGenerationSpec, out: string, opts: MdpGenerateOptions): Promise<MdpManifest> {
  const part = opts.part;
  const kind = mdpShards(spec);
  const opened = kind.open(out, part, true);
  if (opened.done) return opened.done;
  const root = opened.root;
  const { metas, todo } = scanShards(root, kind, (k) => !part || takesUnit(part, k));
  metas.forEach((m) => m && opts.onShard?.(m.count));
  await writeShards(root, kind, todo, metas, opts);
  const manifest = kind.manifest(metas, part);
  finishGeneration(root, out, manifest);
  return manifest;
}
