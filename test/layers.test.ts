/**
 * The layer check (eslint.layers.js) is part of `npm test` through `npm run lint`. These
 * tests prove that it fires on an import pointing up a layer, and that src/ has no import
 * cycle between files (a cycle inside one folder is not a layer error, so it is checked
 * here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS, layerConfigs } from '../eslint.layers.js';
import { ROOT } from './helpers.js';

/** ESLint with only the layer rules (no type information needed). */
const layerLint = () =>
  new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: [{ languageOptions: { parser: tseslint.parser } }, ...layerConfigs()] });

describe('layers', () => {
  it('a deliberate violation is an error that names the layers', async () => {
    const [r] = await layerLint().lintText("import { main } from '../cli/main.js';\nexport const x = main;\n", { filePath: join(ROOT, 'src/kk/violation.ts') });
    expect(r?.messages.map((m) => m.ruleId)).toEqual(['no-restricted-imports']);
    expect(r?.messages[0]?.message).toMatch(/src\/kk may import only src\/util, src\/data .*src\/cli is not below it/);
    // The same import one layer up is fine for the CLI, and downward imports pass.
    const [ok] = await layerLint().lintText("import { hash53 } from '../util/hash.js';\nexport const x = hash53;\n", { filePath: join(ROOT, 'src/kk/fine.ts') });
    expect(ok?.messages).toEqual([]);
  });

  it('every folder of src/ has a row in the layer table, and the table has no cycle', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(Object.keys(LAYERS).sort()).toEqual(folders);
    const seen = new Set<string>();
    const visit = (f: string, path: string[]): void => {
      expect(path, `layer cycle ${[...path, f].join(' -> ')}`).not.toContain(f);
      if (seen.has(f)) return;
      for (const g of (LAYERS as Record<string, string[] | null>)[f] ?? []) visit(g, [...path, f]);
      seen.add(f);
    };
    for (const f of folders) visit(f, []);
  });

  it('src/ has no import cycle between files', () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
      }
    };
    walk(join(ROOT, 'src'));
    // Static imports (`import … from`, `export … from`) and dynamic `import('./x.js')`: a lazy import is still a dependency.
    const IMPORT = /^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gms;
    const edges = new Map(
      files.map((f) => [f, [...readFileSync(f, 'utf8').matchAll(IMPORT)].map((m) => resolve(dirname(f), (m[1] ?? (m[2] as string)).replace(/\.js$/, '.ts')))]),
    );
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const dfs = (f: string, stack: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => relative(ROOT, x)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const g of edges.get(f) ?? []) dfs(g, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of files) dfs(f, []);
    expect(cycles).toEqual([]);
  });
});
