/**
 * What fits where: the wasm backend keeps every tensor in one 32-bit heap, so a model
 * that trains on the native backends can run out of room on the default one. This
 * module says so before a run starts, and explains the abort when it happens anyway.
 * No TensorFlow.js import: the CLI's error handler uses it without loading TF.js.
 */

/** The wasm backend's heap limit: tfjs-backend-wasm's emscripten build caps it at 4 GiB − 64 KiB (its `getHeapMax`). */
export const WASM_HEAP_BYTES = 4_294_901_760;

/** Bytes of tensors a TF.js backend can hold: the wasm heap, or no limit of ours on the others (RAM is theirs to manage). */
export const heapLimit = (tfBackend: string): number => (tfBackend === 'wasm' ? WASM_HEAP_BYTES : Number.POSITIVE_INFINITY);

/** Float32 bytes a training run holds before activations: every weight, and a gradient and two AdamW moments per trained one. */
export const trainingBytes = (total: number, trainable: number): number => 4 * total + 12 * trainable;

/** Float32 bytes one row's logits take while training: the logits, their log-softmax and their gradients, about 4 copies of tokens × vocabulary. */
export const rowLogitsBytes = (tokens: number, vocab: number): number => 16 * tokens * vocab;

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(bytes < 1e9 ? 2 : 1)} GB`;
const millions = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 0)}M`;

/** What to do when training does not fit the wasm heap. */
const WAYS_OUT = 'train a LoRA adapter instead (--lora-r 8 with --model), or use --backend node where @tensorflow/tfjs-node is installed (no heap limit)';

/**
 * The memory line of a training command ("memory: 0.92M parameters, …"), or an error that
 * names the way out when the weights, gradients and AdamW moments alone, or with the
 * logits of the longest row, pass the backend's heap: better now than an abort minutes
 * into the run.
 *
 * @param total every parameter the model holds (base and adapter)
 * @param trainable the parameters the optimiser updates
 * @param row the longest row a step will hold (prompt and completion tokens) and the vocabulary
 */
export function checkTrainingMemory(command: string, total: number, trainable: number, tfBackend: string, row?: { tokens: number; vocab: number }): string {
  const need = trainingBytes(total, trainable);
  const limit = heapLimit(tfBackend);
  const what = trainable === total ? `all ${millions(total)} parameters` : `${millions(trainable)} of ${millions(total)} parameters`;
  if (need > limit) {
    throw new Error(`${command}: training ${what} needs ~${gb(need)} (float32 weights, plus gradients and two AdamW moments for the trained ones) before activations, past the ${tfBackend} backend's ${gb(limit)} heap; ${WAYS_OUT}`);
  }
  const logits = row ? rowLogitsBytes(row.tokens, row.vocab) : 0;
  if (row && need + logits > limit) {
    throw new Error(
      `${command}: training ${what} holds ~${gb(need)}, and the logits of one row of ${row.tokens} tokens over the ${row.vocab}-token vocabulary add ~${gb(logits)} (with their softmax and gradients), past the ${tfBackend} backend's ${gb(limit)} heap; ` +
        `use shorter rows (--max-length, or --max-new-tokens and shorter prompts), or use --backend node where @tensorflow/tfjs-node is installed (no heap limit)`,
    );
  }
  const room = Number.isFinite(limit) ? `, of the ${tfBackend} heap's ${gb(limit)}` : '';
  const rowPart = row ? ` (+~${gb(logits)} for the logits of the longest row, ${row.tokens} tokens)` : '';
  return `memory: training ${what} holds ~${gb(need)} before activations${rowPart}${room}`;
}

/** Whether `e` is the wasm backend's abort (a WebAssembly.RuntimeError from a failed allocation in its heap). */
export const isWasmAbort = (e: unknown): e is Error => e instanceof Error && e.name === 'RuntimeError' && e.message.startsWith('Aborted(');

/**
 * The message for a wasm abort: the heap ran out (emscripten prints only "Aborted()"), and
 * the backend is unusable for the rest of the process.
 */
export function explainWasmAbort(e: Error): string {
  return `the wasm backend ran out of memory (its heap holds at most ${gb(WASM_HEAP_BYTES)}; emscripten said: ${e.message.split('.')[0]}). Checkpoints already written are kept. Use shorter rows (--max-length, --max-new-tokens), fewer rows at once (--batch-size, --micro-batch, --group-size), a LoRA adapter (--lora-r), or --backend node where @tensorflow/tfjs-node is installed`;
}
