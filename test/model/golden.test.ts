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
import { readSafetensorsFile } from '../../src/model/safetensors.js';
import type { Transformer } from '../../src/model/transformer.js';
import { ROOT, tempDir } from '../helpers.js';

const FIXTURES = join(ROOT, 'test/fixtures/families');


async function expected(family: string): Promise<{ ids: number[][]; logits: Float32Array }> {
  const { ids } = JSON.parse(await readFile(join(FIXTURES, family, 'input.json'), 'utf8')) as { ids: number[][] };
  const { tensors } = await readSafetensorsFile(join(FIXTURES, family, 'expected.safetensors'));
  return { ids, logits: tensors.get('logits')?.data as Float32Array };
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
        expect(saved.model_type).toBe(family);
        const again = await loadCheckpoint(dir);
        expect(maxGap(again.model, ids, logits)).toBeLessThan(1e-4);
        loaded.model.dispose();
        again.model.dispose();
      });
    }
  }
});
