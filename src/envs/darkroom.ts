/**
 * Dark Room (DPT, Lee et al. 2023, App. A): a size×size grid
 * (10×10), state (x, y) with index s = x·size + y, five actions
 *   0: x+1, 1: x−1, 2: y+1, 3: y−1, 4: stay   (moves are clipped to the grid),
 * reset to (0, 0), horizon H = 100, reward 1 when the *new* state is the goal (so staying on the
 * goal pays at every step). Transitions and rewards are deterministic and do not depend on h.
 *
 * Task sets:
 *  - `darkroom`: the task is the goal cell. All size² cells are shuffled with a fixed seed
 *    (`Rng.derive(splitSeed, "darkroom-goals")`); the first 80% are the training goals, the rest
 *    are held out (the anchor shuffles with numpy's RandomState(0), so its exact held-out cells
 *    differ; the split fraction and its role are the same).
 *  - `darkroom-permuted`: goal fixed at (size−1, size−1); the task is a permutation σ of the five
 *    actions (action a moves as action σ(a) of the plain room); the 5! = 120 permutations are
 *    shuffled with a fixed seed and split 80/20 the same way.
 *
 * The DPT label of a state is the optimal action; value iteration breaks ties in the order
 * `DARKROOM_TIE_ORDER` = stay, x+1, x−1, y+1, y−1, which at h = 0 is exactly the anchor's rule
 * "fix x first (0/1), then y (2/3), else stay" (on a border cell, pushing into the wall is as good
 * as staying; the anchor says stay).
 */
import { Rng } from "../core/rng.js";
import type { EpisodicMdp } from "./episodic-mdp.js";

export const DARKROOM_ACTIONS = ["x+1", "x-1", "y+1", "y-1", "stay"] as const;
const MOVES: readonly [number, number][] = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [0, 0],
];

export interface DarkroomTaskSpec {
  size: number;
  horizon: number;
  goal: number;
  /** action permutation σ (length 5): action a moves as MOVES[σ[a]] */
  perm: readonly number[];
}

/** The Dark Room MDP for one goal (and action permutation), stationary, with `next` set. */
export function darkroomMdp(t: DarkroomTaskSpec): EpisodicMdp & { goal: number; perm: number[] } {
  const { size, horizon: H, goal } = t;
  const S = size * size;
  const A = 5;
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`darkroom size must be an integer >= 2, got ${size}`);
  if (!Number.isInteger(goal) || goal < 0 || goal >= S) throw new RangeError(`darkroom goal must be a cell in [0, ${S}), got ${goal}`);
  const next = new Int32Array(S * A);
  const P = new Float64Array(S * A * S);
  const R = new Float64Array(S * A);
  for (let x = 0; x < size; x++)
    for (let y = 0; y < size; y++) {
      const s = x * size + y;
      for (let a = 0; a < A; a++) {
        const [dx, dy] = MOVES[t.perm[a]];
        const nx = Math.min(size - 1, Math.max(0, x + dx));
        const ny = Math.min(size - 1, Math.max(0, y + dy));
        const s2 = nx * size + ny;
        next[s * A + a] = s2;
        P[(s * A + a) * S + s2] = 1;
        R[s * A + a] = s2 === goal ? 1 : 0;
      }
    }
  const init = new Float64Array(S);
  init[0] = 1;
  return { S, A, H, P, R, rewardKind: "deterministic", init, stationary: true, next, goal, perm: [...t.perm] };
}

/** (x, y) of a state index. */
export function cellOf(s: number, size: number): [number, number] {
  return [Math.floor(s / size), s % size];
}

/** The held-out split of a list of n items shuffled with a fixed seed: [train, test]. */
export function splitIndices(n: number, trainFraction: number, seed: number, key: string): [number[], number[]] {
  const idx = Array.from({ length: n }, (_, i) => i);
  Rng.derive(seed, key).shuffle(idx);
  const nTrain = Math.round(trainFraction * n);
  return [idx.slice(0, nTrain), idx.slice(nTrain)];
}

/** All permutations of [0..n) in lexicographic order. */
export function permutations(n: number): number[][] {
  const out: number[][] = [];
  const rec = (prefix: number[], rest: number[]) => {
    if (rest.length === 0) out.push(prefix);
    rest.forEach((x, i) => rec([...prefix, x], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  rec([], Array.from({ length: n }, (_, i) => i));
  return out;
}

export const IDENTITY_PERM = [0, 1, 2, 3, 4] as const;

/** Tie-break order of Dark Room's optimal action (see the file comment). */
export const DARKROOM_TIE_ORDER = [4, 0, 1, 2, 3] as const;

/**
 * Dark Key-to-Door (Laskin et al. 2022, AD's second environment): the room of `darkroomMdp` with
 * two unobserved cells, a key and a door (key ≠ door). Reward 1 on entering the key's cell while
 * not holding the key (the agent then holds it), and 1 on entering the door's cell while holding
 * the key; the episode then sits in an absorbing "done" state (no more reward), so the return is at
 * most 2. States: cell c without the key is c, with the key C + c (C = size²), done is 2C; S = 2C + 1.
 * Reset to (0, 0) without the key. The task is the ordered pair (key, door): id = key·(C − 1) + j,
 * door = j if j < key else j + 1.
 */
export interface KeyDoorTaskSpec {
  size: number;
  horizon: number;
  key: number;
  door: number;
}

/** The (key, door) cells of task id in a room of C cells. */
export function keyDoorOf(id: number, C: number): [number, number] {
  const key = Math.floor(id / (C - 1));
  const j = id % (C - 1);
  return [key, j < key ? j : j + 1];
}

/** The cell of a Key-to-Door state (the done state is drawn on the door). */
export function keyDoorCell(s: number, C: number, door: number): number {
  return s >= 2 * C ? door : s % C;
}

export function keyDoorMdp(t: KeyDoorTaskSpec): EpisodicMdp & { goal: number; key: number } {
  const { size, horizon: H, key, door } = t;
  const C = size * size;
  const S = 2 * C + 1;
  const A = 5;
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`darkroom size must be an integer >= 2, got ${size}`);
  if (!(Number.isInteger(key) && key >= 0 && key < C && Number.isInteger(door) && door >= 0 && door < C && key !== door)) throw new RangeError(`key and door must be different cells in [0, ${C}), got ${key} and ${door}`);
  const next = new Int32Array(S * A);
  const P = new Float64Array(S * A * S);
  const R = new Float64Array(S * A);
  const set = (s: number, a: number, s2: number, r: number) => {
    next[s * A + a] = s2;
    P[(s * A + a) * S + s2] = 1;
    R[s * A + a] = r;
  };
  for (let x = 0; x < size; x++)
    for (let y = 0; y < size; y++) {
      const c = x * size + y;
      for (let a = 0; a < A; a++) {
        const [dx, dy] = MOVES[a];
        const c2 = Math.min(size - 1, Math.max(0, x + dx)) * size + Math.min(size - 1, Math.max(0, y + dy));
        set(c, a, c2 === key ? C + c2 : c2, c2 === key ? 1 : 0);
        set(C + c, a, c2 === door ? 2 * C : C + c2, c2 === door ? 1 : 0);
      }
    }
  for (let a = 0; a < A; a++) set(2 * C, a, 2 * C, 0);
  const init = new Float64Array(S);
  init[0] = 1;
  return { S, A, H, P, R, rewardKind: "deterministic", init, stationary: true, next, goal: door, key };
}
