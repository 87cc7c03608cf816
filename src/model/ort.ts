/**
 * Matrix products on ONNX Runtime's CPU kernels (MLAS), for machines without a system BLAS.
 *
 * `onnxruntime-node` (an optional dependency, pinned) ships `libonnxruntime.so` inside
 * its npm package, so a fresh `npm install` brings products at BLAS class with nothing
 * from the system: measured on 2 cores, ~90–160 GFLOP/s on 1024²-class products against
 * XNNPACK's ~50–60 inside TF.js. Its install script only fetches optional CUDA files;
 * the project's `.npmrc` (`onnxruntime-node-install=skip`) turns that off.
 *
 * TF.js kernels are synchronous and ORT's public `InferenceSession.run` returns a
 * promise, but the native binding's `run` underneath is synchronous (the package's
 * `dist/backend.js` only wraps it in `setImmediate`); this module calls the binding
 * directly, which is why the version is pinned exactly. Every product is one ORT call
 * of a one-node graph: `com.microsoft.FusedMatMul`, which takes either transpose and
 * numpy batch broadcasting, so every BatchMatMul form is a single call. Inputs are
 * views of the wasm heap (no copies) and the output is a pre-allocated view of the
 * heap, written in place. The binding refuses views of a SharedArrayBuffer, so this
 * path needs the wasm backend's unthreaded build (one XNNPACK thread).
 *
 * Sessions are cached per transpose form and thread count. Products under
 * {@link SMALL_PRODUCT} FLOPs run on a one-thread session: ORT's per-call cost on two
 * threads (~50 µs) exceeds the small product itself.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';

/** The version this module's use of the native binding was checked against. */
export const ORT_VERSION = '1.30.0';

/** FLOPs under which a product runs on one ORT thread (measured: a 64³ product, 17 µs on one thread, 47 on two). */
const SMALL_PRODUCT = 4e6;

/** A product through ORT: c = op(a)·op(b), batch dims broadcast; `c` is written in place. */
export interface OrtProducts {
  readonly kind: 'ort';
  /** What runs, for the backend line. */
  readonly library: string;
  matmul(
    transA: boolean,
    transB: boolean,
    a: Float32Array,
    aShape: readonly number[],
    b: Float32Array,
    bShape: readonly number[],
    c: Float32Array,
    cShape: readonly number[],
    flops: number,
  ): void;
}

/** ORT found, or why not. */
export type OrtLookup = { readonly ort: OrtProducts } | { readonly ort: null; readonly reason: string };

// ---- a minimal ONNX (protobuf) writer for the one-node graph --------------------------

const utf8 = new TextEncoder();
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};
/** Field `f` as a varint (wire type 0). */
const int = (f: number, n: number): number[] => [...varint(f << 3), ...varint(n)];
/** Field `f` as length-delimited bytes (wire type 2): a string or an embedded message. */
const bytes = (f: number, b: readonly number[] | Uint8Array): number[] => [...varint((f << 3) | 2), ...varint(b.length), ...b];
const str = (f: number, s: string): number[] => bytes(f, utf8.encode(s));

/** onnx.proto field numbers used below. */
const ONNX = {
  model: { irVersion: 1, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, input: 11, output: 12 },
  node: { input: 1, output: 2, opType: 4, attribute: 5, domain: 7 },
  attribute: { name: 1, i: 3, type: 20, INT: 2 },
  valueInfo: { name: 1, type: 2 },
  type: { tensor: 1, elemType: 1, FLOAT: 1 },
} as const;

const intAttribute = (name: string, i: number): number[] => [...str(ONNX.attribute.name, name), ...int(ONNX.attribute.i, i), ...int(ONNX.attribute.type, ONNX.attribute.INT)];
/** A float tensor of any rank and shape. */
const floatTensor = (name: string): number[] => [...str(ONNX.valueInfo.name, name), ...bytes(ONNX.valueInfo.type, bytes(ONNX.type.tensor, int(ONNX.type.elemType, ONNX.type.FLOAT)))];
const opset = (domain: string, version: number): number[] => [...str(ONNX.opset.domain, domain), ...int(ONNX.opset.version, version)];

/** The ONNX model `c = FusedMatMul(a, b; transA, transB)` with inputs of any shape. */
export function fusedMatMulModel(transA: boolean, transB: boolean): Uint8Array {
  const node = [
    ...str(ONNX.node.input, 'a'),
    ...str(ONNX.node.input, 'b'),
    ...str(ONNX.node.output, 'c'),
    ...str(ONNX.node.opType, 'FusedMatMul'),
    ...bytes(ONNX.node.attribute, intAttribute('transA', transA ? 1 : 0)),
    ...bytes(ONNX.node.attribute, intAttribute('transB', transB ? 1 : 0)),
    ...str(ONNX.node.domain, 'com.microsoft'),
  ];
  const graph = [
    ...bytes(ONNX.graph.node, node),
    ...str(ONNX.graph.name, 'product'),
    ...bytes(ONNX.graph.input, floatTensor('a')),
    ...bytes(ONNX.graph.input, floatTensor('b')),
    ...bytes(ONNX.graph.output, floatTensor('c')),
  ];
  return new Uint8Array([...int(ONNX.model.irVersion, 8), ...bytes(ONNX.model.opsetImport, opset('', 17)), ...bytes(ONNX.model.opsetImport, opset('com.microsoft', 1)), ...bytes(ONNX.model.graph, graph)]);
}

// ---- the native binding ------------------------------------------------------------------

/** The parts of onnxruntime-node's native binding used here (typed locally: the package is optional). */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, unknown>, options: Record<string, unknown>): Record<string, unknown>;
}
interface Binding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}
type TensorClass = new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;

function open(binding: Binding, Tensor: TensorClass, version: string): OrtProducts {
  binding.initOrt();
  const cores = Math.max(1, availableParallelism());
  const sessions = new Map<string, NativeSession>();
  const session = (transA: boolean, transB: boolean, threads: number): NativeSession => {
    const key = `${+transA}${+transB}${threads}`;
    let s = sessions.get(key);
    if (!s) {
      s = new binding.binding.InferenceSession();
      const model = fusedMatMulModel(transA, transB);
      s.loadModel(model.buffer, model.byteOffset, model.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Idle pool threads must not spin: between products the main thread runs the
        // rest of the model on the same cores.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      sessions.set(key, s);
    }
    return s;
  };
  return {
    kind: 'ort',
    library: `onnxruntime-node ${version} (MLAS, ${cores} thread${cores === 1 ? '' : 's'})`,
    matmul(transA, transB, a, aShape, b, bShape, c, cShape, flops) {
      const s = session(transA, transB, flops < SMALL_PRODUCT ? 1 : cores);
      s.run({ a: new Tensor('float32', a, aShape), b: new Tensor('float32', b, bShape) }, { c: new Tensor('float32', c, cShape) }, {});
    },
  };
}

/** Self-check on a small product: the binding's synchronous run and in-place output work as assumed. */
function check(ort: OrtProducts): void {
  const a = new Float32Array([1, 2, 3, 4, 5, 6]); // [2, 3]
  const b = new Float32Array([1, 0, 2, 0, 1, 0]); // [2, 3], used transposed
  const c = new Float32Array(4);
  ort.matmul(false, true, a, [2, 3], b, [2, 3], c, [2, 2], 0);
  const want = [7, 2, 16, 5];
  if (!want.every((v, i) => c[i] === v)) throw new Error(`self-check product gave [${[...c].join(', ')}], expected [${want.join(', ')}]`);
}

let lookup: OrtLookup | undefined;

/** ONNX Runtime's products, loaded once; `reason` says why not when they cannot be used. */
export function loadOrt(): Promise<OrtLookup> {
  lookup ??= findOrt();
  return Promise.resolve(lookup);
}

/** Loads the package through `require` (a parameter so tests can take it away). */
export function findOrt(require: (id: string) => unknown = createRequire(import.meta.url)): OrtLookup {
  let binding: Binding;
  let Tensor: TensorClass;
  let version: string;
  try {
    version = (require('onnxruntime-node/package.json') as { version: string }).version;
    binding = require('onnxruntime-node/dist/binding.js') as Binding;
    Tensor = (require('onnxruntime-common') as { Tensor: TensorClass }).Tensor;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' ? 'onnxruntime-node (optional dependency) not installed' : `onnxruntime-node did not load: ${(e as Error).message.split('\n')[0]}`;
    return { ort: null, reason: why };
  }
  if (version !== ORT_VERSION) return { ort: null, reason: `onnxruntime-node ${version} installed, but warmup calls its native binding as of ${ORT_VERSION} (npm ci restores the pinned version)` };
  try {
    const ort = open(binding, Tensor, version);
    check(ort);
    return { ort };
  } catch (e) {
    return { ort: null, reason: `onnxruntime-node ${version} failed its self-check: ${(e as Error).message.split('\n')[0]}` };
  }
}
