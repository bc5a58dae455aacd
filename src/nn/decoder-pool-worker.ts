/** Worker-thread entry of the multi-threaded deployment decoder (decoder-pool.ts). */
import { serveDecoders } from "./decoder-pool.js";

serveDecoders();
