/** Worker-thread entry of the multi-threaded deployment decoder (incremental.ts DecoderPool). */
import { serveDecoders } from "./incremental.js";

serveDecoders();
