/** `warmup serve`: a checkpoint behind the OpenAI API on this machine. */
import { Command } from 'commander';
import type { BackendName } from '../model/names.js';
import { backendOption, intOption } from './common.js';

interface ServeFlags {
  model: string;
  adapter?: string;
  port: number;
  host: string;
  name?: string;
  backend: BackendName | 'auto';
}

async function serve(flags: ServeFlags): Promise<void> {
  const { describeBackend, selectBackend } = await import('../model/backend.js');
  const { loadCheckpoint } = await import('../model/checkpoint.js');
  const { createOpenAIServer } = await import('../serve/server.js');
  const choice = await selectBackend(flags.backend);
  process.stderr.write(`${describeBackend(choice)}\n`);
  const { model, tokenizer } = await loadCheckpoint(flags.model, flags.adapter ? { adapter: flags.adapter } : {});
  const name = flags.name ?? flags.model.replace(/\/+$/, '').split('/').pop() ?? 'warmup';
  const server = createOpenAIServer({ model, tokenizer, name });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(flags.port, flags.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : flags.port;
  process.stderr.write(`serving '${name}' at http://${flags.host}:${port}/v1 (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  model.dispose();
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a checkpoint over the OpenAI API: /v1/models, /v1/completions, /v1/chat/completions (streaming or not)')
    .requiredOption('--model <dir>', 'checkpoint folder (ours, a Hugging Face Qwen2/Qwen3/Llama/Mistral folder, or a LoRA adapter folder)')
    .option('--adapter <dir>', 'LoRA adapter folder (PEFT layout) to apply to --model')
    .option('--port <n>', 'TCP port (0: any free port)', intOption('--port', 0, 65535), 8000)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--name <id>', 'model id clients use (default: the folder name)')
    .addOption(backendOption())
    .action((flags: ServeFlags) => serve(flags));
}
