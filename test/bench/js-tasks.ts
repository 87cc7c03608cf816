/** Small JavaScript problems with reference solutions and HumanEval-style tests, for the JS sandbox benchmark. */
export interface JsTask {
  readonly entry_point: string;
  readonly solution: string;
  readonly test: string;
}

const t = (entry: string, solution: string, cases: [string, string][]): JsTask => ({
  entry_point: entry,
  solution,
  test: `function check(candidate) {\n${cases.map(([args, want]) => `  if (JSON.stringify(candidate(${args})) !== JSON.stringify(${want})) throw new Error('AssertionError: ${entry}(${args.replace(/'/g, '')})');`).join('\n')}\n}`,
});

export const JS_TASKS: readonly JsTask[] = [
  t('add', 'function add(a, b) { return a + b; }', [['1, 2', '3'], ['-1, 1', '0'], ['10, 5', '15']]),
  t('reverse', 'function reverse(s) { return [...s].reverse().join(""); }', [['"abc"', '"cba"'], ['""', '""'], ['"racecar"', '"racecar"']]),
  t('fib', 'function fib(n) { let a = 0, b = 1; for (let i = 0; i < n; i++) [a, b] = [b, a + b]; return a; }', [['0', '0'], ['10', '55'], ['20', '6765']]),
  t('isPrime', 'function isPrime(n) { if (n < 2) return false; for (let i = 2; i * i <= n; i++) if (n % i === 0) return false; return true; }', [['2', 'true'], ['15', 'false'], ['97', 'true']]),
  t('sortDesc', 'function sortDesc(xs) { return [...xs].sort((a, b) => b - a); }', [['[3, 1, 2]', '[3, 2, 1]'], ['[]', '[]'], ['[5, 5, 1]', '[5, 5, 1]']]),
  t('countVowels', 'function countVowels(s) { return (s.match(/[aeiou]/gi) || []).length; }', [['"hello"', '2'], ['"xyz"', '0'], ['"AEIOU"', '5']]),
  t('unique', 'function unique(xs) { return [...new Set(xs)]; }', [['[1, 1, 2]', '[1, 2]'], ['[]', '[]'], ['["a", "b", "a"]', '["a", "b"]']]),
  t('wordFreq', 'function wordFreq(s) { const m = {}; for (const w of s.split(/\\s+/).filter(Boolean)) m[w] = (m[w] || 0) + 1; return m; }', [['"a b a"', '{ a: 2, b: 1 }'], ['""', '{}']]),
  t('flatten', 'function flatten(xs) { return xs.flat(Infinity); }', [['[1, [2, [3]]]', '[1, 2, 3]'], ['[]', '[]']]),
  t('gcd', 'function gcd(a, b) { while (b) [a, b] = [b, a % b]; return a; }', [['12, 18', '6'], ['7, 5', '1'], ['0, 9', '9']]),
];
