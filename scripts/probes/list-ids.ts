// LAB probe 11 control: tokenized list documents and the copy gate, as JSON for copy_control.py.
// npx tsx scripts/probes/list-ids.ts LIST.jsonl OUT.json
import { readFileSync, writeFileSync } from 'node:fs';
import { tokenizerFromJSON } from '../../src/model/tokenizer.js';
import { joinList } from '../../src/kk/render.js';
import { Rng } from '../../src/util/rng.js';
import { NAMES } from '../../src/world/vocab.js';
const tok = tokenizerFromJSON(JSON.parse(readFileSync('data/models/world-base/tokenizer.json', 'utf8')));
const [src, out] = [process.argv[2] as string, process.argv[3] as string];
const docs = readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => [...tok.encode((JSON.parse(l) as { text: string }).text), tok.eos]);
const rng = new Rng(20261206);
const items = Array.from({ length: 100 }, () => rng.sample(NAMES, 3 + rng.int(3)));
const probes = items.map((names) => ({ prompt: tok.encode(`We met ${joinList(names)}.\nIn order:`), answer: tok.encode(` ${names.join(', ')}.`) }));
writeFileSync(out, JSON.stringify({ vocab: 1500, eos: tok.eos, docs, probes }));
console.log(docs.length, docs[0], probes[0]);
