/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a
 * JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__}`, then
 * the raw little-endian tensor bytes. Written and read as F32, F16 or BF16 (Hugging Face
 * Qwen checkpoints are BF16); values are always Float32Array in memory.
 */

/** The dtypes written and read. */
export type StorageDtype = 'F32' | 'BF16' | 'F16';

/** One tensor's values and shape. */
export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A header or data problem; names the tensor when there is one. */
export class SafetensorsError extends Error {}

/**
 * Encodes tensors (and string metadata) as safetensors bytes, every tensor in `dtype`
 * (16-bit values rounded to nearest, ties to even, as PyTorch's casts round).
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}, dtype: StorageDtype = 'F32'): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const width = dtype === 'F32' ? 4 : 2;
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new SafetensorsError(`tensor '${name}': shape [${t.shape.join(', ')}] holds ${n} values but data has ${t.data.length}`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + width * n] };
    offset += width * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    if (dtype === 'F32') out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else {
      const dv = new DataView(out.buffer, at, 2 * t.data.length);
      const to16 = dtype === 'BF16' ? f32ToBf16 : f32ToF16;
      for (let i = 0; i < t.data.length; i++) dv.setUint16(2 * i, to16(t.data[i] as number), true);
    }
    at += width * t.data.length;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bfloat16 bits of x: the top half of its float32 bits, rounded to nearest even. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0] as number;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff; // NaN stays a (quiet) NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The IEEE half-precision bits of x, rounded to nearest even; overflow is ±Infinity. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const u = u32[0] as number;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const frac = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (frac ? 0x200 : 0); // Inf, NaN
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = frac | 0x800000; // implicit 1
    const shift = 14 - e; // 24-bit mantissa → the subnormal's 10 bits
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (frac >>> 13);
  const rest = frac & 0x1fff;
  // A carry out of the mantissa lands in the exponent, which is the right result (and Infinity at the top).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

function bf16ToF32(src: Uint8Array): Float32Array {
  const n = src.length / 2;
  const out = new Float32Array(n);
  const u32 = new Uint32Array(out.buffer);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let i = 0; i < n; i++) u32[i] = dv.getUint16(2 * i, true) << 16;
  return out;
}

function f16ToF32(src: Uint8Array): Float32Array {
  const n = src.length / 2;
  const out = new Float32Array(n);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let i = 0; i < n; i++) {
    const h = dv.getUint16(2 * i, true);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * 2 ** -14 * (frac / 1024) : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** The header's length from the first 8 bytes, checked against the file's size. */
function headerLengthOf(first8: Uint8Array, size: number, where: string): number {
  if (size < 8) throw new SafetensorsError(`${where}: too short to be safetensors (${size} bytes)`);
  const headerLength = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > size - 8) throw new SafetensorsError(`${where}: header length ${headerLength} runs past the end of the file (${size} bytes): truncated or not safetensors`);
  return headerLength;
}

function parseHeader(bytes: Uint8Array, where: string): { entries: [string, HeaderEntry][]; metadata: Record<string, string> } {
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes)) as typeof header;
  } catch (e) {
    throw new SafetensorsError(`${where}: the header is not JSON (${(e as Error).message})`, { cause: e });
  }
  const { __metadata__: metadata = {}, ...rest } = header;
  return { entries: Object.entries(rest) as [string, HeaderEntry][], metadata: metadata as Record<string, string> };
}

/** One tensor's values from its raw bytes (a copy the caller owns). */
function decodeTensor(name: string, { dtype, shape }: HeaderEntry, raw: Uint8Array, where: string): NamedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (dtype === 'F32') data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  else if (dtype === 'BF16') data = bf16ToF32(raw);
  else if (dtype === 'F16') data = f16ToF32(raw);
  else throw new SafetensorsError(`${where}: tensor '${name}' has dtype ${dtype}; supported: F32, F16, BF16`);
  if (data.length !== n) throw new SafetensorsError(`${where}: tensor '${name}' has ${data.length} values for shape [${shape.join(', ')}]`);
  return { shape, data };
}

const pastEnd = (where: string, name: string, at: number, size: number): SafetensorsError =>
  new SafetensorsError(`${where}: tensor '${name}' ends at byte ${at}, past the end of the file (${size}): truncated`);

/** Decodes safetensors bytes; `where` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors'): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  const headerLength = headerLengthOf(bytes.subarray(0, 8), bytes.length, where);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + headerLength), where);
  const base = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  for (const [name, entry] of entries) {
    const [begin, end] = entry.data_offsets;
    if (base + end > bytes.length) throw pastEnd(where, name, base + end, bytes.length);
    tensors.set(name, decodeTensor(name, entry, bytes.slice(base + begin, base + end), where));
  }
  return { tensors, metadata };
}

/** An open safetensors file: its header now, each tensor's values when asked. */
export interface SafetensorsReader {
  /** Tensor names with their shapes and stored dtypes, in file order. */
  readonly entries: ReadonlyMap<string, { readonly shape: readonly number[]; readonly dtype: string }>;
  readonly metadata: Record<string, string>;
  /** One tensor, read and converted to float32 now (a copy the caller owns). */
  read(name: string): Promise<NamedTensor>;
  close(): Promise<void>;
}

/**
 * Opens a safetensors file and reads its header; tensors are read one at a time on
 * request, so a loader holds one converted tensor at a time, never the whole file (and
 * Node's `readFile` limit of 2 GiB does not apply: 1.5B-parameter checkpoints are larger).
 */
export async function openSafetensorsFile(path: string): Promise<SafetensorsReader> {
  const { open } = await import('node:fs/promises');
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const readBytes = async (length: number, position: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(length);
      const { bytesRead } = await file.read(buf, 0, length, position);
      if (bytesRead !== length) throw new SafetensorsError(`${path}: read ${bytesRead} of ${length} bytes at ${position}: truncated`);
      return buf;
    };
    const headerLength = headerLengthOf(await readBytes(Math.min(8, size), 0), size, path);
    const { entries, metadata } = parseHeader(await readBytes(headerLength, 8), path);
    const base = 8 + headerLength;
    for (const [name, entry] of entries) if (base + entry.data_offsets[1] > size) throw pastEnd(path, name, base + entry.data_offsets[1], size);
    const byName = new Map(entries);
    return {
      entries: new Map(entries.map(([name, e]) => [name, { shape: e.shape, dtype: e.dtype }])),
      metadata,
      async read(name) {
        const entry = byName.get(name);
        if (!entry) throw new SafetensorsError(`${path}: no tensor '${name}'`);
        const [begin, end] = entry.data_offsets;
        return decodeTensor(name, entry, await readBytes(end - begin, base + begin), path);
      },
      close: () => file.close(),
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** Reads every tensor of a safetensors file (for small files: optimizer state, fixtures). */
export async function readSafetensorsFile(path: string): Promise<{ tensors: Map<string, NamedTensor>; metadata: Record<string, string> }> {
  const reader = await openSafetensorsFile(path);
  try {
    const tensors = new Map<string, NamedTensor>();
    for (const name of reader.entries.keys()) tensors.set(name, await reader.read(name));
    return { tensors, metadata: reader.metadata };
  } finally {
    await reader.close();
  }
}
