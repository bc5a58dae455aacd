/**
 * NumPy .npy files (format version 1.0), the column format of icrl datasets: `np.load(path)`
 * reads every column with no icrl code. Little-endian, C order. Supported dtypes: int8, int32,
 * float32, float64.
 */
import { MAX_COLUMN_BYTES, readInputBytes } from "../core/input-file.js";
import { IcrlError } from "../core/errors.js";

export type NpyDType = "int8" | "int32" | "float32" | "float64";
export type NpyArray = Int8Array | Int32Array | Float32Array | Float64Array;

const DESCR: Record<NpyDType, string> = { int8: "|i1", int32: "<i4", float32: "<f4", float64: "<f8" };
const FROM_DESCR: Record<string, NpyDType> = { "|i1": "int8", "<i4": "int32", "<f4": "float32", "<f8": "float64" };
const BYTES: Record<NpyDType, number> = { int8: 1, int32: 4, float32: 4, float64: 8 };

export function dtypeOf(a: NpyArray): NpyDType {
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Float32Array) return "float32";
  return "float64";
}

/** The header text of a .npy file, padded so that the data starts at a multiple of 64 bytes. */
function npyHeader(dtype: NpyDType, shape: readonly number[]): string {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Pad so that magic (6) + version (2) + length (2) + header is a multiple of 64, ending in \n.
  const total = 10 + header.length + 1;
  return header + " ".repeat((64 - (total % 64)) % 64) + "\n";
}

/** Size in bytes of the .npy file `encodeNpy` writes for this dtype and shape. */
export function npyFileBytes(dtype: NpyDType, shape: readonly number[]): number {
  return 10 + npyHeader(dtype, shape).length + shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
}

/** Encode an array with a shape as .npy bytes. */
export function encodeNpy(data: NpyArray, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new RangeError(`npy: shape ${JSON.stringify(shape)} has ${n} elements, data has ${data.length}`);
  const header = npyHeader(dtypeOf(data), shape);
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Decode .npy bytes; throws an IcrlError naming `what` on any malformation. */
export function decodeNpy(bytes: Uint8Array, what = "npy file"): { data: NpyArray; shape: number[]; dtype: NpyDType } {
  const bad = (why: string) => new IcrlError(`invalid ${what}: ${why} (allowed: a NumPy .npy v1.0 file of int8/int32/float32/float64, C order)`);
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") throw bad("missing the \\x93NUMPY magic");
  if (bytes[6] !== 1) throw bad(`unsupported version ${bytes[6]}.${bytes[7]}`);
  const hlen = bytes[8] | (bytes[9] << 8);
  if (10 + hlen > bytes.length) throw bad("truncated header");
  const header = String.fromCharCode(...bytes.subarray(10, 10 + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeM === undefined) throw bad("malformed header");
  const dtype = FROM_DESCR[descr];
  if (!dtype) throw bad(`dtype ${descr}`);
  if (fortran !== "False") throw bad("Fortran order");
  const shape = shapeM
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((x) => !Number.isInteger(x) || x < 0)) throw bad(`shape (${shapeM})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = 10 + hlen;
  const nbytes = n * BYTES[dtype];
  if (bytes.length - start !== nbytes) throw bad(`expected ${nbytes} data bytes for shape (${shape.join(",")}), found ${bytes.length - start}`);
  const buf = bytes.slice(start, start + nbytes).buffer;
  const data = dtype === "int8" ? new Int8Array(buf) : dtype === "int32" ? new Int32Array(buf) : dtype === "float32" ? new Float32Array(buf) : new Float64Array(buf);
  return { data, shape, dtype };
}

export function readNpy(path: string): { data: NpyArray; shape: number[]; dtype: NpyDType } {
  return decodeNpy(new Uint8Array(readInputBytes(path, { what: "npy file", maxBytes: MAX_COLUMN_BYTES })), path);
}
