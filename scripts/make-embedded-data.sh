#!/usr/bin/env bash
# Regenerates the evaluation and target sets that ship in data/ (the embedded default
# of `npm start` uses them). Seeded: the same command writes the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
w() { node bin/warmup.js "$@"; }
# K&K held-out evaluation: 3 and 4 people, 30 each (the warmup trains on other seeds),
# interleaved so that any --limit takes both sizes.
w kk generate --people 3,4 --count 60 --seed 1001 --out data/eval/kk.jsonl --quiet
node -e '
const fs = require("fs"); const rows = fs.readFileSync("data/eval/kk.jsonl", "utf8").trim().split("\n");
const h = rows.length / 2; const out = [];
for (let i = 0; i < h; i++) out.push(rows[i], rows[h + i]);
fs.writeFileSync("data/eval/kk.jsonl", out.join("\n") + "\n");'
# The RLVR target set: 100 small K&K puzzles (2 and 3 people).
w kk generate --people 2,3 --count 100 --seed 2002 --out data/target/kk.jsonl --quiet
# A cross-domain probe: one-step arithmetic with boxed answers (the math reward), 40 problems.
node -e '
let s = 3003; const r = (n) => { s = (s * 1103515245 + 12345) % 2147483648; return s % n; };
const ops = [["+", (a, b) => a + b, "plus"], ["-", (a, b) => a - b, "minus"], ["*", (a, b) => a * b, "times"]];
const rows = [];
for (let i = 0; i < 40; i++) {
  const [sym, f, word] = ops[i % 3]; const a = 2 + r(18), b = 2 + r(9);
  rows.push(JSON.stringify({ id: `arith-${i}`, problem: `What is ${a} ${word} ${b}? Give the result as a number.`, answer: String(f(a, b)), subject: word, level: a * b > 60 ? "2" : "1" }));
}
require("fs").writeFileSync("data/eval/arith.jsonl", rows.join("\n") + "\n");'
