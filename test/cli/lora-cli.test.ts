import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureOutput, tempDir } from '../helpers.js';

const io = captureOutput();

describe('LoRA from the command line', () => {
  it('sft --lora-r writes an adapter, which sft resumes, generate loads, and merge folds into a checkpoint', async () => {
    const dir = await tempDir();
    const base = join(dir, 'base');
    expect(await main(['init', '--preset', 'tiny', '--out', base, '--backend', 'wasm']), io.err).toBe(0);
    const data = join(dir, 'sft.jsonl');
    await writeFile(data, Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `Q${i}: `, completion: 'Ann is a knight.' })).join('\n'));
    const out = join(dir, 'adapter');
    const sft = ['sft', '--model', base, '--data', data, '--out', out, '--lora-r', '4', '--lora-targets', 'q_proj,v_proj', '--epochs', '2', '--batch-size', '4', '--eval-fraction', '0', '--backend', 'wasm'];
    expect(await main(sft), io.err).toBe(0);
    expect(io.err).toMatch(/LoRA adapter r 4, alpha 16 on q_proj, v_proj: 0\.0\d+M trainable parameters/);
    expect(io.err).toMatch(/memory: training 0\.\d+M of 0\.\d+M parameters holds ~0\.\d+ GB before activations \(\+~0\.\d+ GB for the logits of the longest row, \d+ tokens\), of the wasm heap's 4\.3 GB/);
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
    expect(JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ r: 4, target_modules: ['q_proj', 'v_proj'] });
    // Resume continues the adapter; training a loaded adapter again with --lora-r is refused.
    expect(await main([...sft.slice(0, sft.indexOf('--epochs')), '--epochs', '3', '--batch-size', '4', '--eval-fraction', '0', '--backend', 'wasm', '--resume', '--quiet']), io.err).toBe(0);
    expect(await main(['sft', '--model', out, '--data', data, '--out', join(dir, 'again'), '--lora-r', '4', '--backend', 'wasm', '--quiet'])).toBe(1);
    expect(io.err).toMatch(/is already an adapter; train it on/);
    io.out = '';
    expect(await main(['generate', '--model', out, '--prompt', 'Q1: ', '--max-new-tokens', '4', '--json', '--backend', 'wasm']), io.err).toBe(0);
    expect(io.out).toContain('"text"');
    const merged = join(dir, 'merged');
    expect(await main(['merge', '--model', base, '--adapter', out, '--out', merged, '--backend', 'wasm']), io.err).toBe(0);
    expect(existsSync(join(merged, 'model.safetensors'))).toBe(true);
    expect(await main(['merge', '--model', base, '--out', join(dir, 'no'), '--backend', 'wasm'])).toBe(1);
    expect(io.err).toMatch(/is not a LoRA adapter folder/);
  }, 120_000);
});
