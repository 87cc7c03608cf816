// A verifier with a fixed CPU cost per completion (options.ms, default 100): a stand-in
// for running unit tests, so the rlvr benchmark can show how generation and scoring
// overlap. Its score is a cheap function of the completion, so groups are not all equal.
export const id = 'slow';
export function score(sample, options) {
  const until = performance.now() + (options.ms ?? 100);
  let spins = 0;
  while (performance.now() < until) spins++;
  const s = (sample.completion.length % 3) / 2;
  return { score: s, status: s === 1 ? 'ok' : 'wrong', parts: { slow: s }, reason: spins > 0 ? null : 'no time' };
}
