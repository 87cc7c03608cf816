// Assembles src/model/simd/kernels.wat into src/model/simd/kernels-wasm.ts (base64 of two
// builds: importing a plain memory, and a shared one for the threaded wasm backend).
// Usage: node scripts/build-simd.mjs [--check]   (--check: exit 1 if the file is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../src/model/simd');
const source = readFileSync(join(dir, 'kernels.wat'), 'utf8');
const IMPORT = '(import "env" "memory" (memory 1))';
if (!source.includes(IMPORT)) throw new Error(`kernels.wat must import its memory as ${IMPORT}`);

const FEATURES = { simd: true, threads: true, sat_float_to_int: true };
const wabt = await wabtInit();
const assemble = (text, name) => {
  const mod = wabt.parseWat(name, text, FEATURES);
  mod.validate(FEATURES);
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return Buffer.from(buffer).toString('base64');
};
const plain = assemble(source, 'kernels.wat');
const shared = assemble(source.replace(IMPORT, '(import "env" "memory" (memory 1 65536 shared))'), 'kernels-shared.wat');
const out = `// Generated from kernels.wat by scripts/build-simd.mjs; do not edit.
/** The module importing a plain memory (the single-threaded wasm backend). */
export const KERNELS_WASM = '${plain}';
/** The module importing a shared memory (the threaded wasm backend). */
export const KERNELS_WASM_SHARED = '${shared}';
`;
const target = join(dir, 'kernels-wasm.ts');
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== out) {
    console.error('src/model/simd/kernels-wasm.ts is stale: run npm run build:simd');
    process.exit(1);
  }
} else {
  writeFileSync(target, out);
  console.log(`wrote ${target} (${plain.length} + ${shared.length} base64 chars)`);
}
