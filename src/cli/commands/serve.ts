/**
 * `icrl serve`: serve the built browser playground (web/dist, built by `npm run build:web`) as
 * static files on a local port. Everything is computed in the page; the server only sends files.
 */
import type { Command } from "commander";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { IcrlError, show } from "../../core/errors.js";
import { intFlag, loadConfigFile, parseWith, CONFIG_HELP } from "../../core/config.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
};

export const ServeSchema = z.strictObject({
  port: z.number().int("an integer").min(0, "an integer in [0, 65535] (0 = any free port)").max(65535, "an integer in [0, 65535] (0 = any free port)").default(5178),
  host: z.string().min(1, "a host name or address").default("127.0.0.1"),
  dir: z.string().min(1, "a folder").optional().describe("the built playground (default: web/dist of this package)"),
});
export type ServeConfig = z.infer<typeof ServeSchema>;

/** web/dist of this package (dist/src/cli/commands/serve.js or src/cli/commands/serve.ts -> repo root). */
export function defaultWebDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dir, "web", "dist");
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * The request path as a path relative to the served folder, or null when it is malformed (the
 * caller answers 400): neither origin-form ("/...") nor an absolute http(s) URL, bad
 * percent-encoding, or a NUL byte. Dot segments ("..", also as %2e) are resolved by the URL
 * parser; an encoded "/" (%2f) that decodes into ".." is caught by the caller's containment check.
 */
export function requestPath(target: string): string | null {
  if (!target.startsWith("/") && !/^https?:\/\//i.test(target)) return null;
  let pathname: string;
  try {
    pathname = new URL(target, "http://localhost").pathname;
  } catch {
    return null;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return null; // URIError: "%", "%zz", a truncated or invalid UTF-8 sequence
  }
  if (rel.includes("\0")) return null;
  return rel.endsWith("/") ? rel + "index.html" : rel;
}

function handle(dir: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    reply(res, 405, "method not allowed (allowed: GET, HEAD)\n", { allow: "GET, HEAD" });
    return;
  }
  const rel = requestPath(req.url ?? "/");
  if (rel === null) {
    reply(res, 400, "bad request: malformed path\n");
    return;
  }
  const file = normalize(join(dir, rel));
  const st = (file === dir || file.startsWith(dir + sep)) && existsSync(file) ? statSync(file) : undefined;
  if (!st?.isFile()) {
    reply(res, 404, `not found: ${show(rel)}\n`);
    return;
  }
  const body = readFileSync(file);
  const headers: Record<string, string> = { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": String(body.length) };
  // Hashed assets never change; the page, the service worker and the model index may.
  headers["cache-control"] = rel.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Start the static server; resolves once listening. */
export async function startServer(cfg: ServeConfig): Promise<{ server: Server; url: string; dir: string }> {
  const dir = resolve(cfg.dir ?? defaultWebDir());
  if (!existsSync(join(dir, "index.html"))) {
    throw new IcrlError(`invalid --dir: ${show(dir)} holds no built playground (allowed: a folder with index.html; run \`npm run build:web\` first)`);
  }
  const server = createServer((req, res) => {
    try {
      handle(dir, req, res);
    } catch (e) {
      // A bug or a file-system error on one request: answer 500, keep serving.
      process.stderr.write(`icrl serve: ${req.method} ${show(req.url)}: ${(e as Error).message.split("\n")[0]}\n`);
      if (!res.headersSent) reply(res, 500, "internal error\n");
      else res.destroy();
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      fail(e.code === "EADDRINUSE" ? new IcrlError(`invalid --port: ${cfg.port} is in use (allowed: a free port, or 0 for any)`) : e),
    );
    server.listen(cfg.port, cfg.host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : cfg.port;
  const host = cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host;
  return { server, url: `http://${host}:${port}/`, dir };
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("Serve the browser playground (build it first with `npm run build:web`); open the printed address. Everything runs in the page.")
    .option("--port <n>", "port (default 5178; 0 = any free port)", intFlag("port"))
    .option("--host <addr>", "address to listen on (default 127.0.0.1; 0.0.0.0 for other devices)")
    .option("--dir <folder>", "the built playground (default web/dist)")
    .option("--config <file>", CONFIG_HELP)
    .action(async (flags: { port?: number; host?: string; dir?: string; config?: string }) => {
      const raw: Record<string, unknown> = flags.config ? loadConfigFile(flags.config) : {};
      for (const k of ["port", "host", "dir"] as const) if (flags[k] !== undefined) raw[k] = flags[k];
      const cfg = parseWith(ServeSchema, raw);
      const { server, url, dir } = await startServer(cfg);
      process.stdout.write(`icrl playground: ${url}  (serving ${dir}; Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = () => server.close(() => done());
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
