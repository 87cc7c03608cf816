"""Same-run baseline for the K&K benchmark: the straightforward Python approach of the
published K&K generator (Xie et al. 2024, mem-kk-logic): sample one statement tree per
islander, solve by trying all 2^N assignments with a recursive evaluator, keep puzzles
with exactly one solution, render the quiz text. Written for this benchmark (no code
copied); pure standard library, one core.

Usage: python3 kk_reference.py N [N ...]   -> one JSON line per N: {"n", "puzzles_per_s"}
"""
import itertools
import json
import random
import sys
import time

NAMES = ["Zoey", "Oliver", "Ethan", "Mia", "Owen", "Lily", "Jack", "Emma", "Liam", "Ava", "Noah", "Ella"]


def sample_statement(rng, me, n, depth):
    dice = 0 if depth <= 1 else rng.randrange(6)
    if dice == 0:
        while True:
            kind = rng.choice(["telling-truth", "lying"])
            who = rng.randrange(n)
            if not (kind == "lying" and who == me):
                return (kind, who)
    if dice == 1:
        return ("not", sample_statement(rng, me, n, depth - 1))
    op = ["and", "or", "->", "<=>"][dice - 2]
    while True:
        a = sample_statement(rng, me, n, depth - 1)
        b = sample_statement(rng, me, n, depth - 1)
        if a != b:
            return (op, a, b)


def holds(s, knights):
    tag = s[0]
    if tag == "telling-truth":
        return knights[s[1]]
    if tag == "lying":
        return not knights[s[1]]
    if tag == "not":
        return not holds(s[1], knights)
    if tag == "and":
        return all(holds(x, knights) for x in s[1:])
    if tag == "or":
        return any(holds(x, knights) for x in s[1:])
    if tag == "->":
        return (not holds(s[1], knights)) or holds(s[2], knights)
    return holds(s[1], knights) == holds(s[2], knights)


def solutions(statements):
    n = len(statements)
    return [k for k in itertools.product([True, False], repeat=n) if all(holds(s, k) == k[i] for i, s in enumerate(statements))]


def render(s, names):
    tag = s[0]
    if tag == "telling-truth":
        return f"{names[s[1]]} is a knight"
    if tag == "lying":
        return f"{names[s[1]]} is a knave"
    if tag == "not":
        inner = s[1]
        if inner[0] == "telling-truth":
            return f"{names[inner[1]]} is not a knight"
        if inner[0] == "lying":
            return f"{names[inner[1]]} is not a knave"
        return f"it is not the case that {render(inner, names)}"
    if tag == "->":
        return f"If {render(s[1], names)} then {render(s[2], names)}"
    if tag == "<=>":
        return f"{render(s[1], names)} if and only if {render(s[2], names)}"
    return f" {tag} ".join(render(x, names) for x in s[1:])


def generate(rng, n, seen):
    while True:
        statements = tuple(sample_statement(rng, i, n, 2) for i in range(n))
        sols = solutions(statements)
        if len(sols) == 1 and statements not in seen:
            seen.add(statements)
            names = rng.sample(NAMES, n)
            quiz = (
                "A very special island is inhabited only by knights and knaves. Knights always tell the truth, and knaves always lie. "
                f"You meet {n} inhabitants: {', '.join(names)}. "
                + " ".join(f'{names[i]} said, "{render(s, names)}."' for i, s in enumerate(statements))
                + " So who is a knight and who is a knave?"
            )
            answer = "\n".join(f"({i + 1}) {names[i]} is a {'knight' if k else 'knave'}" for i, k in enumerate(sols[0]))
            return quiz, answer


def main():
    for n in [int(a) for a in sys.argv[1:]]:
        rng = random.Random(n)
        seen = set()
        count, start = 0, time.perf_counter()
        limit = 150 if n == 2 else 10**9  # N=2 has only 399 puzzles
        while time.perf_counter() - start < 1.5 and count < limit:
            generate(rng, n, seen)
            count += 1
        print(json.dumps({"n": n, "puzzles_per_s": count / (time.perf_counter() - start)}), flush=True)


if __name__ == "__main__":
    main()
