/**
 * Static sharding of a generation: which work units a process takes when N processes share a job.
 *
 * A work unit is one shard of the dataset, keyed by (split, task range [first, first + count),
 * seed); its bytes are a pure function of that key and the generation spec, so units can run in
 * any order on any machine. Process k of N takes the units j with j mod N = k (round robin over
 * the unit list, train units first), which spreads train and validation work evenly.
 *
 * The shard index comes from `--shard k/N`, or from the environment of a cluster array job:
 *   Slurm job array      SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN,
 *                        so `--array=1-8` works as well as `--array=0-7`)
 *   Kubernetes Indexed   JOB_COMPLETION_INDEX (set by Kubernetes) and ICRL_SHARD_COUNT (set it to
 *   Job                  the Job's `completions` in the pod template; Kubernetes has no variable
 *                        for the count)
 */
import { IcrlError } from "../core/errors.js";

export interface ShardSpec {
  /** This process's index, 0-based. */
  index: number;
  /** Number of processes sharing the generation. */
  count: number;
}

/** Largest accepted shard count (a generation has at most this many processes). */
export const MAX_SHARDS = 100_000;

const INT = /^\d+$/;

/** Parse `k/N` (0 <= k < N). */
export function parseShardFlag(s: string, field = "--shard"): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const allowed = `k/N with integers 0 <= k < N <= ${MAX_SHARDS}, e.g. 0/4, or all`;
  if (!m) throw new IcrlError(`invalid ${field}: ${JSON.stringify(s)} (allowed: ${allowed})`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!(count >= 1 && count <= MAX_SHARDS && index < count)) throw new IcrlError(`invalid ${field}: ${JSON.stringify(s)} (allowed: ${allowed})`);
  return { index, count };
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!INT.test(v.trim())) throw new IcrlError(`invalid environment variable ${name}: ${JSON.stringify(v)} (allowed: a non-negative integer)`);
  return Number(v.trim());
}

/**
 * The shard of this process from the cluster's environment, or null when none is set.
 * Kubernetes takes precedence over Slurm when both are set (they never are on a real cluster).
 */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env): (ShardSpec & { source: string }) | null {
  const k8s = envInt(env, "JOB_COMPLETION_INDEX");
  if (k8s !== undefined) {
    const count = envInt(env, "ICRL_SHARD_COUNT");
    if (count === undefined) {
      throw new IcrlError(`missing environment variable ICRL_SHARD_COUNT (allowed: the Kubernetes Indexed Job's completions, set next to JOB_COMPLETION_INDEX=${k8s}; or pass --shard k/N)`);
    }
    return { ...parseShardFlag(`${k8s}/${count}`, "JOB_COMPLETION_INDEX/ICRL_SHARD_COUNT"), source: "Kubernetes Indexed Job" };
  }
  const id = envInt(env, "SLURM_ARRAY_TASK_ID");
  if (id !== undefined) {
    const count = envInt(env, "SLURM_ARRAY_TASK_COUNT");
    if (count === undefined) throw new IcrlError(`missing environment variable SLURM_ARRAY_TASK_COUNT next to SLURM_ARRAY_TASK_ID=${id} (allowed: a Slurm job array; or pass --shard k/N)`);
    const min = envInt(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    const max = envInt(env, "SLURM_ARRAY_TASK_MAX");
    if (max !== undefined && max - min + 1 !== count) {
      throw new IcrlError(`invalid Slurm array: SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_MAX=${max}, SLURM_ARRAY_TASK_COUNT=${count} (allowed: a contiguous array such as --array=0-${count - 1})`);
    }
    return { ...parseShardFlag(`${id - min}/${count}`, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT"), source: "Slurm job array" };
  }
  return null;
}

/** `--shard` if given (`all`: the whole job), else the cluster environment, else null (the whole job). */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ShardSpec | null {
  if (flag === "all") return null; // the whole job here, whatever the environment says
  if (flag !== undefined) return parseShardFlag(flag);
  const e = shardFromEnv(env);
  return e ? { index: e.index, count: e.count } : null;
}

/** Does process `shard` take unit number `unit`? */
export function takesUnit(shard: ShardSpec, unit: number): boolean {
  return unit % shard.count === shard.index;
}

/** Folder name of a part: `part-00003-of-00008`. */
export function partName(shard: ShardSpec): string {
  return `part-${String(shard.index).padStart(5, "0")}-of-${String(shard.count).padStart(5, "0")}`;
}
