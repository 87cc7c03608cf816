#!/usr/bin/env node
// The `warmup` command. The CLI is compiled from src/cli by `npm install` (the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
