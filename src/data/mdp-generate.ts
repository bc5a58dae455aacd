/**
 * MDP dataset generation: shards as deterministic work units spread over worker threads,
 * resumable, with the same work folder rules as src/data/generate.ts (openGenerationFolder): work
 * happens in `<out>.partial/`, whose `generation.json` records the spec; a re-run with the same
 * spec removes leftovers of killed writes, keeps every shard whose shard.json and checksums verify
 * and regenerates the rest; the manifest is written last and the folder renamed to `<out>`, so
 * `<out>` only ever holds a complete dataset; an `<out>` that is not a dataset is refused before any
 * work. The bytes do not depend on the number of workers.
 */
import { parseMdpEnvParams } from "../envs/tabular-mdp.js";
import { shardedDiskBytes } from "./dataset.js";
import { checkDatasetDisk, finishGeneration, openGenerationFolder, scanShards, writeShards, type ShardKind } from "./generate.js";
import { checkOutPath, runCommand } from "../core/io.js";
import { withOutLock } from "../core/lock.js";
import { takesUnit, type ShardSpec } from "./shard.js";
import { MDP_DATASET_FORMAT, MDP_DATASET_VERSION, MDP_PART_FORMAT, checkMdpSpec, columnDocs, mdpColumnLayout, mdpShardUnits, verifiedMdpShard, writeMdpShard, type MdpGenerationSpec, type MdpManifest } from "./mdp-dataset.js";

export interface MdpGenerateOptions {
  workers?: number;
  onShard?: (sequences: number) => void;
  /** Generate part k of N (the units j with j mod N = k) into a part folder at `out`. */
  part?: ShardSpec;
}

/** Generate (or resume, or find complete) an MDP dataset at `out`. */
export async function generateMdpDataset(given: MdpGenerationSpec, out: string, opts: MdpGenerateOptions = {}): Promise<MdpManifest> {
  // The manifest records the complete environment parameters (defaults filled in), so that a
  // dataset reads the same whatever later defaults become, and a missing field is an error.
  const spec: MdpGenerationSpec = { ...given, envParams: { ...parseMdpEnvParams(given.env, given.envParams) } };
  checkMdpSpec(spec);
  checkOutPath(out);
  return withOutLock(out, runCommand(), () => generateMdpLocked(spec, out, opts));
}

/** Refuse a new MDP generation that cannot fit on the disk holding `out` (as for bandit datasets). */
function checkMdpDisk(spec: MdpGenerationSpec, out: string, part?: ShardSpec): void {
  checkDatasetDisk(out, part, (blockSize, select) => shardedDiskBytes(spec, (count) => mdpColumnLayout(spec, count), blockSize, select), "fewer --tasks, a shorter --context-length or fewer --episodes, or --shard k/N across machines");
}

async function generateMdpLocked(spec: MdpGenerationSpec, out: string, opts: MdpGenerateOptions): Promise<MdpManifest> {
  const part = opts.part;
  const opened = openGenerationFolder<MdpManifest>(spec, out, part, true, { memory: () => {}, disk: () => checkMdpDisk(spec, out, part) });
  if (opened.done) return opened.done;
  const root = opened.root;
  const kind: ShardKind = {
    kind: "mdp",
    spec,
    units: mdpShardUnits(spec),
    write: (r, u) => writeMdpShard(r, spec, u.split, u.index, u.first, u.count),
    verified: (r, u) => verifiedMdpShard(r, spec, u.split, u.index, u.first, u.count),
  };
  const units = kind.units;
  const { metas, todo } = scanShards(root, kind, (k) => !part || takesUnit(part, k));
  metas.forEach((m) => m && opts.onShard?.(m.count));
  await writeShards(root, kind, todo, metas, opts);
  const splits: MdpManifest["splits"] = { train: { tasks: spec.tasks, shards: [] }, validation: { tasks: spec.valTasks, shards: [] } };
  units.forEach((u, k) => {
    if (metas[k]) splits[u.split].shards.push(metas[k]!);
  });
  const manifest: MdpManifest = part
    ? { format: MDP_PART_FORMAT, version: MDP_DATASET_VERSION, spec, columns: columnDocs(spec.kind), part: { index: part.index, count: part.count }, splits }
    : { format: MDP_DATASET_FORMAT, version: MDP_DATASET_VERSION, spec, columns: columnDocs(spec.kind), splits };
  finishGeneration(root, out, manifest);
  return manifest;
}
