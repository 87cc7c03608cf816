/** `warmup sft`, `warmup pretrain`, `warmup generate`, `warmup init` and `warmup tokenizer train`. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { readRows } from '../data/dataset.js';
import { from, lastValueFrom, mergeMap, tap } from 'rxjs';
import { writeArrowStream } from '../stages/io.js';
import { makeMetricRecords, METRICS, withRunMetadata } from '../data/schemas.js';
import type { LoadedCheckpoint } from '../model/checkpoint.js';
import { kkTokenizerCorpus } from '../kk/corpus.js';
import { DEFAULT_VOCAB, loadDefaultTokenizer } from '../model/default-tokenizer.js';
import { PRESET_NAMES, type BackendName, type PresetName } from '../model/names.js';
import { trainByteBpe, type Tokenizer } from '../model/tokenizer.js';
import type { Transformer } from '../model/transformer.js';
import type { SFTConfig } from '../train/sft.js';
import { attachLoraFromFlags, backendOption, intOption, type LoraFlags, loraOptions, numberOption, printJson, repeatable, trainingMemoryLine } from './common.js';
import { Progress } from './progress.js';

interface SftFlags extends LoraFlags {
  /** `pretrain`: rows with `text`, loss on every token; `sft`: prompt/completion rows, loss on completions. */
  kind?: 'sft' | 'pretrain';
  tokenizer?: string;
  /** One file, or several mixed (`--data` repeated). */
  data: string[];
  eval?: string;
  evalFraction: number;
  preset: PresetName;
  /** A new model with its own LM head (`tie_word_embeddings: false`). */
  untieEmbeddings?: boolean;
  model?: string;
  out: string;
  metrics?: string;
  backend: BackendName | 'auto';
  epochs?: number;
  lr?: number;
  batchSize?: number;
  gradAccum?: number;
  maxLength?: number;
  warmupSteps?: number;
  schedule?: 'cosine' | 'constant';
  anchorDecay?: number;
  packing: boolean;
  seed: number;
  saveEvery?: number;
  evalEvery?: number;
  resume?: boolean;
  quiet?: boolean;
}

/** A tokenizer.json file, with an error that names it when it cannot be read. */
async function loadTokenizerFile(path: string): Promise<Tokenizer> {
  const { readFile } = await import('node:fs/promises');
  const { tokenizerFromJSON } = await import('../model/tokenizer.js');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`--tokenizer ${path}: cannot read a tokenizer.json (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  return tokenizerFromJSON(json);
}

/** The SFT settings a command line sets (the rest keep the trainer's defaults). */
function sftOverrides(flags: SftFlags): Partial<SFTConfig> {
  const keys = ['epochs', 'lr', 'batchSize', 'gradAccum', 'maxLength', 'warmupSteps', 'schedule', 'anchorDecay', 'saveEvery', 'evalEvery'] as const;
  return { seed: flags.seed, packing: flags.packing, ...Object.fromEntries(keys.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]])) };
}

async function sft(flags: SftFlags): Promise<void> {
  // TensorFlow.js loads here, not when the CLI starts.
  const { describeBackend, selectBackend } = await import('../model/backend.js');
  const { loadCheckpoint, readChatTemplate } = await import('../model/checkpoint.js');
  const { parameterCount, presetConfig, Transformer } = await import('../model/transformer.js');
  const { collectExamples, collectTexts, NonFiniteLossError, SFTTrainer, splitHeldOut, tokenizeExample } = await import('../train/sft.js');
  const kind = flags.kind ?? 'sft';
  // Chat rows are rendered by the chat template of the model they train (ChatML without one).
  const templateFrom = flags.resume ? flags.out : flags.model;
  const chat = kind === 'sft' && templateFrom ? await readChatTemplate(templateFrom) : null;
  const collect = (path: string) => (kind === 'pretrain' ? collectTexts(path) : collectExamples(path, chat));
  const choice = await selectBackend(flags.backend);
  const log = (line: string): void => {
    if (!flags.quiet) process.stderr.write(`${line}\n`);
  };
  log(describeBackend(choice));
  const all = (await Promise.all(flags.data.map(collect))).flat();
  const { train: examples, held: evalExamples } = flags.eval ? { train: all, held: await collect(flags.eval) } : splitHeldOut(all, flags.evalFraction, flags.seed);
  const overrides = sftOverrides(flags);
  if (flags.untieEmbeddings && (flags.model || flags.resume)) throw new Error('--untie-embeddings shapes a new model; leave out --model and --resume (a checkpoint keeps its own tie_word_embeddings)');
  let model: Transformer;
  let tokenizer: Tokenizer;
  let resumeState: LoadedCheckpoint | null = null;
  if (flags.resume) {
    if (!existsSync(join(flags.out, 'trainer_state.json'))) throw new Error(`--resume: ${flags.out} has no trainer_state.json to resume from`);
    resumeState = await loadCheckpoint(flags.out);
    ({ model, tokenizer } = resumeState);
    log(`resuming from ${flags.out} at step ${String((resumeState.trainerState as { step?: number }).step)}`);
  } else if (flags.model) {
    ({ model, tokenizer } = await loadCheckpoint(flags.model));
    log(`starting from ${flags.model}`);
  } else {
    tokenizer = flags.tokenizer ? await loadTokenizerFile(flags.tokenizer) : await loadDefaultTokenizer();
    model = Transformer.init(presetConfig(flags.preset, tokenizer.vocabSize, flags.untieEmbeddings ? { tieEmbeddings: false } : {}), flags.seed);
  }
  log(`model: ${(parameterCount(model.config) / 1e6).toFixed(2)}M parameters; ${examples.length} training and ${evalExamples.length} held-out examples`);
  const lora = resumeState ? null : await attachLoraFromFlags(model, flags.model, flags, flags.seed);
  if (lora) log(lora);
  const trainer = new SFTTrainer(model, tokenizer, overrides);
  if (resumeState) trainer.resume(resumeState.optimizer, resumeState.trainerState);
  const train = examples.map((e) => tokenizeExample(tokenizer, e, trainer.config.maxLength));
  // Packed rows fill up to --max-length; unpacked, a row is one example.
  const longest = trainer.config.packing ? trainer.config.maxLength : train.reduce((n, e) => Math.max(n, e.ids.length - 1), 1);
  log(trainingMemoryLine(kind, model, choice.tfBackend, longest, (flags.anchorDecay ?? 0) > 0));
  const cut = train.filter((e) => !e.lossMask.some((m) => m === 1)).length;
  if (cut > 0) log(`warning: ${cut} of ${train.length} examples have no completion token within --max-length ${trainer.config.maxLength} (the prompt fills it); they are left out. Raise --max-length to keep them.`);
  const held = evalExamples.map((e) => tokenizeExample(tokenizer, e, trainer.config.maxLength));
  const metricsPath = flags.metrics ?? `${flags.out.replace(/\/+$/, '')}-metrics.arrows`;
  const schema = withRunMetadata(METRICS, { command: kind, ...trainer.config, data: flags.data, backend: choice.name });
  const runId = `${kind}-${flags.seed}`;
  let progress: Progress | null = null;
  let lastLoss = Number.NaN;
  try {
    await lastValueFrom(
      from(trainer.train(train, { evalSet: held, outDir: flags.out })).pipe(
        tap((s) => {
          progress ??= new Progress({ label: kind, total: s.totalSteps, unit: 'steps', quiet: flags.quiet === true, initial: s.step - 1 }); // a resumed run's first step is not its first
          lastLoss = s.loss;
          progress.update(s.step, `loss ${s.loss.toFixed(4)}  lr ${s.lr.toExponential(1)}  ${Math.round(s.tokensPerSec)} tok/s${s.evalLoss !== undefined ? `  eval ${s.evalLoss.toFixed(4)}` : ''}`);
        }),
        mergeMap((s) => makeMetricRecords(runId, s.step, { loss: s.loss, lr: s.lr, grad_norm: s.gradNorm, tokens_per_s: s.tokensPerSec, eval_loss: s.evalLoss })),
        writeArrowStream(metricsPath, schema, { append: flags.resume === true }),
      ),
    );
  } catch (e) {
    if (e instanceof NonFiniteLossError) throw new Error(`${e.message} Metrics so far: ${metricsPath}`, { cause: e });
    throw e;
  } finally {
    trainer.dispose();
  }
  (progress as Progress | null)?.finish(`final loss ${lastLoss.toFixed(4)} -> ${flags.out}`);
  log(`checkpoint: ${flags.out}   metrics: ${metricsPath}`);
}

interface GenerateFlags {
  model: string;
  prompt: string[];
  n: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  stop: string[];
  json?: boolean;
  backend: BackendName | 'auto';
}

async function generateCmd(flags: GenerateFlags): Promise<void> {
  const { describeBackend, selectBackend } = await import('../model/backend.js');
  const { loadCheckpoint } = await import('../model/checkpoint.js');
  const { generate } = await import('../model/sample.js');
  const choice = await selectBackend(flags.backend);
  if (!flags.json) process.stderr.write(`${describeBackend(choice)}\n`);
  const { model, tokenizer } = await loadCheckpoint(flags.model);
  try {
    const prompts = flags.prompt.flatMap((p) => Array.from({ length: flags.n }, () => tokenizer.encode(p)));
    const t0 = performance.now();
    const gens = generate(model, tokenizer, prompts, {
      maxNewTokens: flags.maxNewTokens,
      temperature: flags.temperature,
      topP: flags.topP,
      topK: flags.topK,
      seed: flags.seed,
      stop: flags.stop,
    });
    const seconds = (performance.now() - t0) / 1000;
    if (flags.json) {
      printJson(gens.map((g, i) => ({ prompt: flags.prompt[Math.floor(i / flags.n)], ...g })));
    } else {
      for (const [i, g] of gens.entries()) process.stdout.write(`${gens.length > 1 ? `--- ${i + 1} (${g.finishReason}) ---\n` : ''}${g.text}\n`);
      const tokens = gens.reduce((n, g) => n + g.tokens.length, 0);
      process.stderr.write(`${tokens} tokens in ${seconds.toFixed(2)} s (${Math.round(tokens / seconds)} tok/s)\n`);
    }
  } finally {
    model.dispose();
  }
}

/** `warmup init`: a fresh student checkpoint. */
async function initAction(flags: { out: string; preset: PresetName; tokenizer?: string; seed: number; backend: BackendName | 'auto' }): Promise<void> {
  const { selectBackend } = await import('../model/backend.js');
  const { saveCheckpoint } = await import('../model/checkpoint.js');
  const { parameterCount, presetConfig, Transformer } = await import('../model/transformer.js');
  await selectBackend(flags.backend);
  const tokenizer = flags.tokenizer ? await loadTokenizerFile(flags.tokenizer) : await loadDefaultTokenizer();
  const model = Transformer.init(presetConfig(flags.preset, tokenizer.vocabSize), flags.seed);
  await saveCheckpoint(flags.out, model, tokenizer);
  process.stderr.write(`${flags.preset}: ${(parameterCount(model.config) / 1e6).toFixed(2)}M parameters -> ${flags.out}\n`);
  model.dispose();
}

/** `warmup merge`: a LoRA adapter folded into its base's weights, saved as a whole checkpoint. */
async function mergeAction(flags: { model: string; adapter?: string; out: string; backend: BackendName | 'auto' }): Promise<void> {
  const { selectBackend } = await import('../model/backend.js');
  const { loadCheckpoint, saveCheckpoint } = await import('../model/checkpoint.js');
  await selectBackend(flags.backend);
  const { model, tokenizer } = await loadCheckpoint(flags.model, flags.adapter ? { adapter: flags.adapter } : {});
  try {
    if (!model.adapter) throw new Error(`merge: ${flags.model} is not a LoRA adapter folder; give one, or a base with --adapter`);
    const { r, alpha } = model.adapter.config;
    model.mergeAdapter();
    await saveCheckpoint(flags.out, model, tokenizer);
    process.stderr.write(`merged the r ${r}, alpha ${alpha} adapter into its base -> ${flags.out}\n`);
  } finally {
    model.dispose();
  }
}

/** `warmup tokenizer train`: byte-level BPE on the given text files, or on the built-in K&K corpus. */
async function tokenizerTrainCmd(flags: { out: string; vocab: number; corpus: string[] }): Promise<void> {
  const texts: string[] = [];
  for (const f of flags.corpus) {
    if (/\.(jsonl|arrow|arrows|parquet)(\.gz)?$/.test(f)) {
      for await (const r of readRows(f)) for (const k of ['prompt', 'completion', 'quiz', 'text']) if (typeof r[k] === 'string') texts.push(r[k]);
    } else {
      const { readFile } = await import('node:fs/promises');
      texts.push(await readFile(f, 'utf8'));
    }
  }
  const tok = trainByteBpe(texts.length > 0 ? texts : kkTokenizerCorpus(), flags.vocab);
  await writeFile(flags.out, JSON.stringify(tok.toJSON()));
  process.stderr.write(`${tok.vocabSize} tokens -> ${flags.out}\n`);
}

/** The options sft and pretrain share: the model, the schedule, checkpoints and resume. */
const trainingOptions = (cmd: Command, defaults: { epochs: number; lr: string }): Command =>
  cmd
    .requiredOption('--out <dir>', 'checkpoint folder (written atomically; metrics go to OUT-metrics.arrows)')
    .addOption(new Option('--preset <name>', 'model size for a new model').choices([...PRESET_NAMES]).default('tiny'))
    .option('--untie-embeddings', 'a new model gets an LM head of its own instead of reusing the embedding (tie_word_embeddings false): with tied embeddings, tokens a corpus never uses delayed learning to copy from context (results/LAB.md, probe 18)')
    .option('--model <dir>', 'start from this checkpoint instead of a new model')
    .option('--eval-fraction <f>', 'share of --data held out when --eval is not given', numberOption('--eval-fraction', 0, 0.5), 0.05)
    .option('--metrics <file>', 'metrics Arrow stream')
    .addOption(backendOption())
    .option('--epochs <n>', `passes over the data (default ${defaults.epochs})`, intOption('--epochs', 1))
    .option('--lr <x>', `peak learning rate (default ${defaults.lr})`, numberOption('--lr', 0))
    .option('--batch-size <n>', 'rows per micro-batch (default 8)', intOption('--batch-size', 1))
    .option('--grad-accum <n>', 'micro-batches per step (default 1)', intOption('--grad-accum', 1))
    .option('--max-length <n>', 'tokens per row (default 512)', intOption('--max-length', 2))
    .option('--warmup-steps <n>', 'linear warmup steps (default 20)', intOption('--warmup-steps', 0))
    .addOption(new Option('--schedule <kind>', 'after warmup (default cosine)').choices(['cosine', 'constant']))
    .option('--anchor-decay <x>', 'pull every weight back toward the --model it started from: each step moves it lr·x of the way (L2-SP; 0, the default, is off). Keeps more of what the model did on prompts the data never shows (results/LAB.md, probe 25)', numberOption('--anchor-decay', 0))
    .option('--seed <n>', 'seed of the model init and data order', intOption('--seed', 0, 0xffffffff), 0)
    .option('--save-every <n>', 'checkpoint every N steps (always at the end)', intOption('--save-every', 0))
    .option('--eval-every <n>', 'held-out loss every N steps (always at the end)', intOption('--eval-every', 0))
    .option('--resume', 'continue the run saved in --out (same data order, optimizer state and step)')
    .option('--quiet', 'no progress output');

export function modelCommands(): Command[] {
  const sftCmd = trainingOptions(
    loraOptions(new Command('sft'))
      .description('supervised warmup: train a student on {prompt, completion} rows (completion-only loss) and write a checkpoint')
      .requiredOption('--data <file>', 'training rows (a traces dataset, .jsonl, .parquet) in TRL\'s layouts: prompt and completion strings; a messages chat list (the last, assistant turn is learned); or prompt and completion chat lists. Chat rows use the --model\'s chat template, ChatML without one. Repeat to mix files (e.g. traces and rehearsal rows from warmup world replay)', repeatable)
      .option('--eval <file>', 'held-out rows (default: a seeded --eval-fraction of --data)')
      .option('--no-packing', 'one example per row, bucketed by length, instead of packing'),
    { epochs: 3, lr: '1e-3' },
  ).action((flags: SftFlags) => sft({ ...flags, kind: 'sft' }));
  const pretrainCmd = trainingOptions(
    new Command('pretrain')
      .description('causal-LM pretraining on a text corpus (rows with a text column; loss on every token, documents packed) and write a checkpoint')
      .requiredOption('--data <file>', 'corpus rows with a text column (.jsonl, .arrow, .arrows, .parquet); repeat to mix files', repeatable)
      .option('--eval <file>', 'held-out corpus rows (default: a seeded --eval-fraction of --data)')
      .option('--tokenizer <file>', 'tokenizer.json for a new model (default: the embedded byte-level BPE)'),
    { epochs: 3, lr: '1e-3' },
  ).action((flags: SftFlags) => sft({ ...flags, kind: 'pretrain', packing: true }));
  const generateCommand = new Command('generate')
    .description('sample from a checkpoint')
    .requiredOption('--model <dir>', 'checkpoint folder (ours, a Hugging Face Qwen2/Qwen3/Llama/Mistral folder, or a LoRA adapter folder)')
    .requiredOption('--prompt <text>', 'prompt text; repeat for a batch', repeatable, [] as string[])
    .option('--n <k>', 'samples per prompt', intOption('--n', 1), 1)
    .option('--max-new-tokens <n>', 'tokens to generate at most', intOption('--max-new-tokens', 1), 128)
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', numberOption('--temperature', 0), 0)
    .option('--top-p <p>', 'nucleus mass', numberOption('--top-p', 0, 1), 1)
    .option('--top-k <k>', 'candidates kept; 0 is all', intOption('--top-k', 0), 0)
    .option('--seed <n>', 'sampling seed', intOption('--seed', 0, 0xffffffff), 0)
    .option('--stop <text>', 'stop string; repeatable', repeatable, [] as string[])
    .option('--json', 'print generations with token ids, log-probs and finish reasons')
    .addOption(backendOption())
    .action((flags: GenerateFlags) => generateCmd(flags));
  const initCmd = new Command('init')
    .description('write a freshly initialised student checkpoint (a preset with the embedded tokenizer, or --tokenizer)')
    .requiredOption('--out <dir>', 'checkpoint folder')
    .addOption(new Option('--preset <name>', 'model size').choices([...PRESET_NAMES]).default('tiny'))
    .option('--tokenizer <file>', 'tokenizer.json (default: the embedded byte-level BPE)')
    .option('--seed <n>', 'initialisation seed', intOption('--seed', 0, 0xffffffff), 0)
    .addOption(backendOption())
    .action(initAction);
  const tokenizerCmd = new Command('tokenizer').description('the embedded byte-level BPE tokenizer');
  tokenizerCmd
    .command('train')
    .description('train a byte-level BPE tokenizer (tokenizer.json) on the built-in K&K corpus or your text files')
    .requiredOption('--out <file>', 'tokenizer.json to write')
    .option('--vocab <n>', 'vocabulary size', intOption('--vocab', 263), DEFAULT_VOCAB)
    .option('--corpus <file>', 'text or .jsonl file (prompt/completion/quiz/text fields); repeatable', repeatable, [] as string[])
    .action(tokenizerTrainCmd);
  const mergeCmd = new Command('merge')
    .description('fold a LoRA adapter into its base weights and write a whole checkpoint')
    .requiredOption('--model <dir>', 'the adapter folder (PEFT layout; its base is read from adapter_config.json), or the base with --adapter')
    .option('--adapter <dir>', 'the adapter folder, when --model is its base')
    .requiredOption('--out <dir>', 'checkpoint folder to write')
    .addOption(backendOption())
    .action(mergeAction);
  return [sftCmd, pretrainCmd, generateCommand, initCmd, tokenizerCmd, mergeCmd];
}
