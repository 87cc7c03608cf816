/**
 * `npm run bench [-- NAME…]`: runs the named benchmarks (default: all) and prints one
 * JSON object per benchmark on stdout. Benchmarks import the compiled `dist/` (the
 * code users run), which `npm run bench` rebuilds first.
 */
const BENCHES: Record<string, () => Promise<unknown>> = {
  kk: async () => (await import('./kk.js')).run(),
  rewards: async () => (await import('./rewards.js')).run(),
  model: async () => (await import('./model.js')).run(),
  traces: async () => (await import('./traces.js')).run(),
  rlvr: async () => (await import('./rlvr.js')).run(),
  flat: async () => (await import('./flat.js')).run(),
  big: async () => (await import('./big.js')).run(),
};


const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
for (const name of asked.length > 0 ? asked : Object.keys(BENCHES)) {
  const result = await (BENCHES[name] as () => Promise<unknown>)();
  process.stdout.write(`${JSON.stringify({ bench: name, ...(result as object) }, null, 2)}\n`);
}
