/**
 * Synchronous request/response with worker threads, for engine work spread over both cores
 * behind synchronous interfaces (the data-parallel train step, the multi-threaded deployment
 * decoder). The caller posts a request on a MessagePort, may compute its own share meanwhile,
 * then blocks on a shared counter (Atomics.wait) until the worker has replied and reads the reply
 * with `receiveMessageOnPort`; the caller's event loop is never needed.
 *
 * Worker entries are modules under src/nn that call `serveRequests`. Built code runs
 * `dist/src/nn/<entry>.js`; from the TypeScript sources (tsx, in development) a small .mjs shim
 * registers tsx in the worker first.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, Worker, receiveMessageOnPort, workerData, type MessagePort, type TransferListItem } from "node:worker_threads";
import { IcrlError } from "../core/errors.js";

interface Envelope {
  seq: number;
  error?: string;
  /** The error is an IcrlError (a user-facing message): the caller rethrows it as is. */
  user?: boolean;
  body?: unknown;
}

/** The calling side of one worker thread. */
export class SyncWorker<Req, Res> {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;
  private pending = 0;

  /** Start `entry` (a module name in src/nn, e.g. "parallel-worker") with `init` as its workerData. */
  constructor(entry: string, init: unknown, private readonly timeoutMs = 3_600_000) {
    const js = fileURLToPath(new URL(`./${entry}.js`, import.meta.url));
    const ts = fileURLToPath(new URL(`./${entry}.ts`, import.meta.url));
    const shim = fileURLToPath(new URL("./worker-tsx.mjs", import.meta.url));
    let file: string;
    if (existsSync(js)) file = js;
    else if (existsSync(ts) && existsSync(shim)) file = shim; // running from the TypeScript sources (tsx)
    else throw new IcrlError(`worker script ${entry} not found next to ${fileURLToPath(import.meta.url)}`);
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(file, { workerData: { init, port: port2, flag: this.flag, entry: ts }, transferList: [port2] });
    this.worker.unref();
    this.port = port1;
  }

  /** Post a request; `wait` returns its reply. One request may be outstanding at a time. */
  post(body: Req, transfer: TransferListItem[] = []): void {
    if (this.pending !== 0) {
      // The reply of a request whose caller failed before waiting: collect and drop it.
      try {
        this.wait();
      } catch {
        // its error belongs to the abandoned request
      }
    }
    this.pending = ++this.seq;
    this.port.postMessage({ seq: this.seq, body }, transfer);
  }

  /** Block until the reply of the outstanding request arrives. */
  wait(): Res {
    const id = this.pending;
    if (id === 0) throw new Error("SyncWorker: no outstanding request");
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m) {
        const env = m.message as Envelope;
        if (env.seq !== id) continue; // the reply of a request abandoned by an earlier failure
        this.pending = 0;
        if (env.error !== undefined) throw new IcrlError(env.user ? env.error : `a worker thread failed: ${env.error}`);
        return env.body as Res;
      }
      const now = Date.now();
      if (now > deadline) {
        this.pending = 0;
        throw new IcrlError(`no answer from a worker thread after ${this.timeoutMs / 1000} s`);
      }
      Atomics.wait(this.flag, 0, Atomics.load(this.flag, 0), Math.min(1000, deadline - now));
    }
  }

  /** Post and wait. */
  call(body: Req, transfer: TransferListItem[] = []): Res {
    this.post(body, transfer);
    return this.wait();
  }

  dispose(): void {
    this.port.close();
    void this.worker.terminate();
  }
}

/**
 * The worker side: answer each request with `handle(body)` (its result and the buffers to
 * transfer). Call once from a worker entry module; `init` is what the caller passed.
 */
export function serveRequests<Init, Req, Res>(
  setup: (init: Init) => (body: Req) => Reply<Res> | Promise<Reply<Res>>,
): void {
  const { init, port, flag } = workerData as { init: Init; port: MessagePort; flag: Int32Array };
  const handle = setup(init);
  const answer = (reply: Envelope, transfer: TransferListItem[]) => {
    port.postMessage(reply, transfer);
    Atomics.add(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  const failed = (seq: number, e: unknown): Envelope => (e instanceof IcrlError ? { seq, error: e.message, user: true } : { seq, error: (e as Error).stack ?? String(e) });
  // Requests are answered in order: an asynchronous handler (the WebGPU engine reads the device
  // asynchronously) finishes before the next request starts.
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (env: Envelope) => {
    queue = queue.then(async () => {
      try {
        const r = await handle(env.body as Req);
        answer({ seq: env.seq, body: r.body }, r.transfer ?? []);
      } catch (e) {
        answer(failed(env.seq, e), []);
      }
    });
  });
}

/** What a request handler returns: the reply and the buffers to transfer. */
export interface Reply<Res> {
  body: Res;
  transfer?: TransferListItem[];
}
