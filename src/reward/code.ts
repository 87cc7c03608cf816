/**
 * Code rewards: the program is taken from the completion's last fenced code block (or
 * the whole completion), completed with the row's prompt when the completion is only
 * a function body (HumanEval style), and run against the row's tests in the sandbox.
 *
 * Row fields: `test` (defines `check(candidate)`), `entry_point`, `prompt` (the
 * function header for body-only completions) and optionally `language`
 * (python | javascript; default python, or the fence's language tag).
 */
import { DEFAULT_LIMITS, type CodeTask, type SandboxLimits } from '../sandbox/limits.js';
import { checkOptionNames, choiceOption, makeResult, numberOption, type CodeLanguage, type RewardContext, type RewardModule, type RewardOptions, type RewardResult, type RewardSample } from './types.js';

export type { CodeLanguage, CodeRunner } from './types.js';

const FENCE = /```([A-Za-z0-9_+-]*)[^\n]*\n([\s\S]*?)```/g;

/** The last fenced code block of a completion and its language tag; else the whole text. */
export function extractCode(completion: string): { code: string; tag: string | null } {
  const blocks = [...completion.matchAll(FENCE)];
  const last = blocks[blocks.length - 1];
  if (last) return { code: last[2] as string, tag: (last[1] as string).toLowerCase() || null };
  return { code: completion, tag: null };
}

function languageOf(tag: string | null, row: Readonly<Record<string, unknown>>, fallback: CodeLanguage): CodeLanguage {
  const named = typeof row.language === 'string' ? row.language.toLowerCase() : tag;
  if (named && /^(js|javascript|node|mjs)$/.test(named)) return 'javascript';
  if (named && /^(py|python|python3)$/.test(named)) return 'python';
  return fallback;
}

/** The program to run: the extracted code, prefixed with the row prompt when the code does not define the entry point. */
export function buildProgram(code: string, row: Readonly<Record<string, unknown>>, language: CodeLanguage): string {
  const entry = typeof row.entry_point === 'string' ? row.entry_point : null;
  const prompt = typeof row.prompt === 'string' ? row.prompt : '';
  const defines =
    entry === null ||
    (language === 'python'
      ? new RegExp(`^\\s*(?:async\\s+)?def\\s+${entry}\\s*\\(`, 'm').test(code)
      : new RegExp(`(?:function\\s+${entry}\\s*\\(|(?:const|let|var)\\s+${entry}\\s*=)`).test(code));
  if (defines) {
    // Keep the prompt's imports: a full rewrite of the function often relies on them.
    const imports = language === 'python' ? prompt.split('\n').filter((l) => /^(?:from\s+\S+\s+)?import\s/.test(l)).join('\n') : '';
    return imports ? `${imports}\n${code}` : code;
  }
  return `${prompt}${code}`;
}

/** The options, checked (`checkOptions`); a bad one throws `RewardOptionError`. */
function codeOptions(options: RewardOptions): { pass: number; fail: number; fallback: CodeLanguage; limits: SandboxLimits } {
  checkOptionNames('code', options, ['pass', 'fail', 'language', 'timeoutMs', 'memoryMb', 'outputBytes']);
  return {
    pass: numberOption('code', options, 'pass', 1),
    fail: numberOption('code', options, 'fail', 0),
    fallback: choiceOption('code', options, 'language', ['python', 'javascript'] as const, 'python'),
    limits: {
      timeoutMs: numberOption('code', options, 'timeoutMs', DEFAULT_LIMITS.timeoutMs),
      memoryMb: numberOption('code', options, 'memoryMb', DEFAULT_LIMITS.memoryMb),
      outputBytes: numberOption('code', options, 'outputBytes', DEFAULT_LIMITS.outputBytes),
    },
  };
}

/** Scores code with the host's sandbox runner (`context.runCode`); without one the sample is unscorable. */
export async function scoreCode(sample: RewardSample, options: RewardOptions = {}, context: RewardContext = {}): Promise<RewardResult> {
  const { pass, fail, fallback, limits } = codeOptions(options);
  const { row } = sample;
  if (typeof row.test !== 'string') return makeResult('unscorable', null, "the row has no 'test' code");
  const runner = context.runCode;
  if (!runner) return makeResult('unscorable', null, 'no code sandbox in this process: run code rewards through the reward pool');
  const { code, tag } = extractCode(sample.completion);
  if (code.trim() === '') return makeResult('format_error', fail, 'the completion has no code', { tests: fail });
  const language = languageOf(tag, row, fallback);
  const task: CodeTask = {
    program: buildProgram(code, row, language),
    test: row.test,
    entryPoint: typeof row.entry_point === 'string' ? row.entry_point : null,
  };
  const r = await runner(language, task, limits);
  const parts = { tests: r.status === 'passed' ? pass : fail };
  switch (r.status) {
    case 'passed':
      return makeResult('ok', pass, null, parts);
    case 'timeout':
      return makeResult('timeout', fail, `${language}: ${r.detail || 'time limit'}`, parts);
    case 'crashed':
      return makeResult('crashed', null, `${language}: ${r.detail}`, { tests: null });
    default:
      return makeResult('wrong', fail, `${language} ${r.status}: ${r.detail}`, parts);
  }
}

export const codeReward: RewardModule = {
  id: 'code',
  description: 'runs the completion\'s code against the row\'s tests in the sandbox; options {pass, fail, language, timeoutMs, memoryMb, outputBytes}',
  score: scoreCode,
  checkOptions: codeOptions,
};
