/**
 * The `verl` reward: scores a row of verl's RL layout (`data_source`, a chat `prompt`,
 * `reward_model.ground_truth`) with the built-in reward its `data_source` names, as
 * verl's default reward manager routes by data source. A source it does not know is
 * `unscorable`, with the source in the reason, so a run names the reward itself
 * (`--reward`) instead of training on a guess.
 */
import { scoreKK } from './kk.js';
import { scoreMath } from './math.js';
import { scoreChoice } from './mc.js';
import { checkOptionNames, makeResult, type RewardModule, type RewardOptions, type RewardResult, type RewardSample } from './types.js';

/** Data sources by pattern, in order, and the reward that scores them. */
export const VERL_ROUTES: readonly { readonly pattern: RegExp; readonly reward: 'kk' | 'math' | 'mc'; readonly score: (s: RewardSample) => RewardResult }[] = [
  { pattern: /kk|knights?.?(and|&).?knaves?|logic/i, reward: 'kk', score: (s) => scoreKK(s) },
  { pattern: /math|gsm8k|aime|amc|numina|deepscaler|dapo|olympiad/i, reward: 'math', score: (s) => scoreMath(s) },
  { pattern: /mmlu|gpqa|arc.?(challenge|easy)|multiple.?choice/i, reward: 'mc', score: (s) => scoreChoice(s) },
];

const routeOf = (dataSource: string) => VERL_ROUTES.find((r) => r.pattern.test(dataSource));

/** The built-in reward for a data source, or null. */
export const verlRouteOf = (dataSource: string): 'kk' | 'math' | 'mc' | null => routeOf(dataSource)?.reward ?? null;

const verlOptions = (options: RewardOptions): void => checkOptionNames('verl', options, []);

export function scoreVerl(sample: RewardSample, options: RewardOptions = {}): RewardResult {
  verlOptions(options);
  const source = sample.row.data_source;
  if (typeof source !== 'string') return makeResult('unscorable', null, "the row has no string 'data_source' to route by");
  const route = routeOf(source);
  if (!route) return makeResult('unscorable', null, `no built-in reward for data_source ${JSON.stringify(source)} (known: K&K, math, multiple choice); name one with --reward`);
  const result = route.score(sample);
  return { ...result, parts: { ...result.parts, [route.reward]: result.score } };
}

export const verlReward: RewardModule = {
  id: 'verl',
  description: "verl rows: the built-in reward that the row's data_source names (K&K, math, multiple choice); unknown sources are unscorable",
  score: scoreVerl,
  checkOptions: verlOptions,
};
