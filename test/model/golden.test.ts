/**
 * Golden logits per model family. test/fixtures/families/make_golden.py (PyTorch, a
 * reference forward written from transformers' modeling files) made each tiny random
 * checkpoint and the logits it computes; warmup must load the same checkpoint and
 * compute the same logits, and again after its own save → load.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { encodeSafetensors, f32ToBf16, f32ToF16, readSafetensorsFile } from '../../src/model/safetensors.js';
import type { Transformer } from '../../src/model/transformer.js';
import { ROOT, tempDir } from '../helpers.js';

const FIXTURES = join(ROOT, 'test/fixtures/families');


async function expected(family: string): Promise<{ ids: number[][]; logits: Float32Array }> {
  const { ids } = JSON.parse(await readFile(join(FIXTURES, family, 'input.json'), 'utf8')) as { ids: number[][] };
  const { tensors } = await readSafetensorsFile(join(FIXTURES, family, 'expected.safetensors'));
  return { ids, logits: tensors.get('logits')?.data as Float32Array };
}

/** The dtypes in a safetensors file's header. */
async function dtypesOf(path: string): Promise<Set<string>> {
  const bytes = await readFile(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype?: string }>;
  return new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype as string));
}

function maxGap(model: Transformer, ids: number[][], want: Float32Array): number {
  const got = tf.tidy(() => model.forward({ ids: tf.tensor2d(ids, undefined, 'int32') }).logits.dataSync() as Float32Array);
  expect(got.length).toBe(want.length);
  let gap = 0;
  for (let i = 0; i < got.length; i++) gap = Math.max(gap, Math.abs((got[i] as number) - (want[i] as number)));
  return gap;
}

describe('golden logits against the PyTorch reference (test/fixtures/families)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const family of ['qwen2', 'qwen3', 'llama', 'mistral']) {
      it(`${family} on ${backend}: loads, matches within 1e-4, and again after save → load`, async () => {
        await selectBackend(backend);
        const { ids, logits } = await expected(family);
        const loaded = await loadCheckpoint(join(FIXTURES, family));
        expect(loaded.model.config.family).toBe(family);
        expect(maxGap(loaded.model, ids, logits)).toBeLessThan(1e-4);
        const dir = join(await tempDir(), family);
        await saveCheckpoint(dir, loaded.model, loaded.tokenizer);
        const saved = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
        const source = JSON.parse(await readFile(join(FIXTURES, family, 'config.json'), 'utf8')) as Record<string, unknown>;
        expect(saved.model_type).toBe(family);
        // 16-bit weights stay 16-bit: the saved file has the dtype the fixture was read in.
        expect(saved.torch_dtype).toBe(source.torch_dtype);
        expect(await dtypesOf(join(dir, 'model.safetensors'))).toEqual(await dtypesOf(join(FIXTURES, family, 'model.safetensors')));
        const again = await loadCheckpoint(dir);
        expect(maxGap(again.model, ids, logits)).toBeLessThan(1e-4);
        loaded.model.dispose();
        again.model.dispose();
      });
    }
  }
});

describe('16-bit writing rounds as PyTorch casts do', () => {
  it('matches torch .to(bfloat16) and .to(float16) bit for bit (normals, subnormals, overflow, ties)', async () => {
    const casts = JSON.parse(await readFile(join(FIXTURES, 'casts.json'), 'utf8')) as { f32_bits: number[]; bf16_bits: number[]; f16_bits: number[] };
    const x = new Float32Array(new Uint32Array(casts.f32_bits).buffer);
    expect([...x].map(f32ToBf16)).toEqual(casts.bf16_bits);
    expect([...x].map(f32ToF16)).toEqual(casts.f16_bits);
    // The encoder writes those bits, little-endian, after the header.
    const bytes = encodeSafetensors(new Map([['x', { shape: [x.length], data: x }]]), {}, 'BF16');
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const dv = new DataView(bytes.buffer, 8 + n);
    expect(Array.from({ length: x.length }, (_, i) => dv.getUint16(2 * i, true))).toEqual(casts.bf16_bits);
  });
});
