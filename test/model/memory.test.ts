import { describe, expect, it } from 'vitest';
import { checkTrainingMemory, explainWasmAbort, isWasmAbort, trainingBytes, WASM_HEAP_BYTES } from '../../src/model/memory.js';

// Qwen2.5-0.5B: 494M parameters; a LoRA adapter of rank 8 on every linear adds ~4.4M.
const HALF_B = 494_032_768;
const LORA = 4_399_104;

describe('what fits the wasm heap', () => {
  it('counts float32 weights, and a gradient and two AdamW moments per trained parameter', () => {
    expect(trainingBytes(100, 100)).toBe(1600);
    expect(trainingBytes(100 + 10, 10)).toBe(440 + 120);
  });

  it('refuses full training of a 0.5B model on wasm before it starts, and names the ways out', () => {
    expect(() => checkTrainingMemory('sft', HALF_B, HALF_B, 'wasm')).toThrow(/sft: training all 494M parameters needs ~7\.9 GB .* past the wasm backend's 4\.3 GB heap; train a LoRA adapter instead \(--lora-r 8 with --model\), or use --backend node/);
  });

  it('lets the same model train a LoRA adapter on wasm, and anything on the native backends', () => {
    expect(checkTrainingMemory('rlvr', HALF_B + LORA, LORA, 'wasm')).toBe("memory: training 4.40M of 498M parameters holds ~2.0 GB before activations, of the wasm heap's 4.3 GB");
    expect(checkTrainingMemory('sft', HALF_B, HALF_B, 'tensorflow')).toBe('memory: training all 494M parameters holds ~7.9 GB before activations');
    expect(checkTrainingMemory('sft', 920_000, 920_000, 'wasm')).toMatch(/^memory: training all 0\.92M parameters holds ~0\.01 GB/);
  });

  it("refuses a row whose logits alone would pass the heap, and counts the longest row's logits in the line", () => {
    // A LoRA step of the 0.5B model fits at 512 tokens; one 2,048-token row's logits over 151,936 tokens (~5 GB) do not.
    expect(checkTrainingMemory('sft', HALF_B + LORA, LORA, 'wasm', { tokens: 512, vocab: 151_936 })).toBe(
      "memory: training 4.40M of 498M parameters holds ~2.0 GB before activations (+~1.2 GB for the logits of the longest row, 512 tokens), of the wasm heap's 4.3 GB",
    );
    expect(() => checkTrainingMemory('rlvr', HALF_B + LORA, LORA, 'wasm', { tokens: 2048, vocab: 151_936 })).toThrow(
      /rlvr: training 4\.40M of 498M parameters holds ~2\.0 GB, and the logits of one row of 2048 tokens over the 151936-token vocabulary add ~5\.0 GB .* past the wasm backend's 4\.3 GB heap; use shorter rows \(--max-length/,
    );
    expect(checkTrainingMemory('rlvr', HALF_B + LORA, LORA, 'tensorflow', { tokens: 2048, vocab: 151_936 })).toMatch(/\+~5\.0 GB for the logits/);
  });

  it("recognises emscripten's abort and explains it", () => {
    // tfjs-backend-wasm's abort(): `throw new WebAssembly.RuntimeError('Aborted(' + what + ')' + …)`.
    const RuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new (m: string) => Error } }).WebAssembly.RuntimeError;
    const abort = new RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
    expect(isWasmAbort(abort)).toBe(true);
    expect(isWasmAbort(new RuntimeError('unreachable'))).toBe(false);
    expect(isWasmAbort(new Error('Aborted()'))).toBe(false);
    expect(explainWasmAbort(abort)).toMatch(/^the wasm backend ran out of memory \(its heap holds at most 4\.3 GB; emscripten said: Aborted\(\)\)\. Checkpoints already written are kept\./);
    expect(WASM_HEAP_BYTES).toBe(2 ** 32 - 2 ** 16);
  });
});
