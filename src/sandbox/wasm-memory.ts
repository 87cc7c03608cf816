/**
 * A memory ceiling for WebAssembly interpreters (Pyodide, QuickJS) in this thread.
 *
 * Emscripten grows its heap through `WebAssembly.Memory.prototype.grow`; refusing a
 * grow past the ceiling makes malloc fail, which Python reports as `MemoryError` and
 * QuickJS as an out-of-memory exception, with the interpreter still usable. Without
 * it Pyodide grows to the 4 GiB wasm32 limit and never gives the memory back. Install
 * it only in sandbox worker threads: it applies to every wasm memory of the thread.
 */
let ceiling: number | null = null;

/** The slice of the WebAssembly API used here (TypeScript's node types do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow: (this: WasmMemory, delta: number) => number;
}
const memoryPrototype = (globalThis as unknown as { WebAssembly: { Memory: { prototype: WasmMemory } } }).WebAssembly.Memory.prototype;

/** Caps every wasm memory of this thread at `megabytes` (idempotent; the last call wins). */
export function capWasmMemory(megabytes: number): void {
  const first = ceiling === null;
  ceiling = megabytes * 2 ** 20;
  if (!first) return;
  const grow = memoryPrototype.grow;
  memoryPrototype.grow = function (this: WasmMemory, delta: number): number {
    if (ceiling !== null && this.buffer.byteLength + delta * 65536 > ceiling) {
      throw new RangeError(`sandbox memory limit of ${(ceiling / 2 ** 20).toFixed(0)} MiB reached`);
    }
    return grow.call(this, delta);
  };
}
