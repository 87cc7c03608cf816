/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a
 * JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__}`, then
 * the raw little-endian tensor bytes. Written as F32; read as F32, F16 or BF16 (Hugging
 * Face Qwen2 checkpoints are BF16), always returned as Float32Array.
 */

/** One tensor's values and shape. */
export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A header or data problem; names the tensor when there is one. */
export class SafetensorsError extends Error {}

/** Encodes tensors (and string metadata) as safetensors bytes. */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new SafetensorsError(`tensor '${name}': shape [${t.shape.join(', ')}] holds ${n} values but data has ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
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

/** Decodes safetensors bytes; `where` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors'): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(`${where}: too short to be safetensors (${bytes.length} bytes)`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new SafetensorsError(`${where}: header length ${headerLength} runs past the end of the file (${bytes.length} bytes): truncated or not safetensors`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as typeof header;
  } catch (e) {
    throw new SafetensorsError(`${where}: the header is not JSON (${(e as Error).message})`, { cause: e });
  }
  const base = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: range } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [begin, end] = range;
    if (base + end > bytes.length) throw new SafetensorsError(`${where}: tensor '${name}' ends at byte ${base + end}, past the end of the file (${bytes.length}): truncated`);
    const raw = bytes.slice(base + begin, base + end);
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (dtype === 'F32') data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    else if (dtype === 'BF16') data = bf16ToF32(raw);
    else if (dtype === 'F16') data = f16ToF32(raw);
    else throw new SafetensorsError(`${where}: tensor '${name}' has dtype ${dtype}; supported: F32, F16, BF16`);
    if (data.length !== n) throw new SafetensorsError(`${where}: tensor '${name}' has ${data.length} values for shape [${shape.join(', ')}]`);
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}
