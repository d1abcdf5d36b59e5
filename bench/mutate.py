"""Mutation check of the science core: one-line changes of a definition (a dropped argument, a flipped
comparison, swapped inputs), each applied alone to a temporary copy of the project, and the fast tests of
the modules concerned run against it. A mutant is *killed* when a test fails, *survived* when all pass.

    .venv/bin/python bench/mutate.py                        # every mutant; prints killed/survived and the score
    .venv/bin/python bench/mutate.py --only ttr-first,bias   # the mutants whose name contains one of these
    .venv/bin/python bench/mutate.py --without tests/test_definitions_in_use.py   # the score before those tests

The unmutated copy is run first with the same tests: they must pass there, or no score is given. Each mutant's
text must occur exactly once in its file; one that no longer does (the code moved on) is reported as
"not applied" and left out of the score. Runs on CPU, one pytest process per mutant (-x: it stops at the first
failing test); all 40 took about 6 minutes on 2 cores whose plain loop (bench/calibrate.py) ran at 138
tokens/s, 40/40 killed, every mutant applied.

Measured (33 mutants): with tests/test_definitions_in_use.py 33/33 killed (100%); before it 16/33 (48%: the
17 others passed every fast test of their modules; derived from the same run, as the tests run in the listed
order with that file last, so a mutant whose first failure is in it passed all the older ones); that file
alone kills 27/33 (the other six, perplexity-off-by-one, t-interval-wrong-dof, ratio-bootstrap-unpaired,
blocker-prefix-one-longer, span-overlap-wrong-end and windows-from-the-pool-end, fall to the older tests).
The seven added for the follow-up's measures and the judge (--only top-k-bias,pre-norm,first-position,cosine-of,
overrides-count,rep-n-per,judge-one): 7/7 killed; overrides-count-top1 survived until test_definitions_in_use's
brute-force test of measure_overrides.py.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("src", "workflow", "tests", "config", "rules", "Snakefile", "envs", "profiles", "report", "pyproject.toml")
NEW = "tests/test_definitions_in_use.py"

METRICS = ["tests/test_metrics.py", "tests/test_overlap.py", "tests/test_sweeps.py", "tests/test_texts.py", NEW]
STATS = ["tests/test_sweeps.py", "tests/test_table1.py", "tests/test_overlap.py", NEW]
BLOCKER = ["tests/test_blocker.py", NEW]
GENERATION = ["tests/test_blocker.py", "tests/test_sweeps.py", NEW]
FOLLOWUP = ["tests/test_followup.py", NEW]
DATA = ["tests/test_data.py", NEW]
TRAINING = ["tests/test_training.py", NEW]
JUDGE = ["tests/test_judge.py", "tests/test_human.py"]

# (name, file, original text, mutated text, tests)
MUTANTS = [
    # metrics: TTR's window and its callers, teacher-forced scores
    ("ttr-first-tokens", "src/hyperfit/metrics.py", "list(ids)[-last:] if last", "list(ids)[:last] if last", METRICS),
    ("ttr-window-dropped-in-text-metrics", "src/hyperfit/overlap.py",
     '"ttr": ttr(r["generated_ids"], ttr_window)', '"ttr": ttr(r["generated_ids"])', METRICS),
    ("ttr-window-dropped-in-text-ttr", "src/hyperfit/sweeptables.py",
     'return sum(ttr(r["generated_ids"], window) for r in records)', 'return sum(ttr(r["generated_ids"]) for r in records)',
     METRICS),
    ("ttr-window-dropped-in-per-text-ttr", "src/hyperfit/sweeptables.py",
     'pd.Series([ttr(r["generated_ids"], window) for r in ordered])', 'pd.Series([ttr(r["generated_ids"]) for r in ordered])',
     METRICS),
    ("ttr-window-dropped-in-figure9", "src/hyperfit/texts.py", "out.append(ttr(seq[:t], window))",
     "out.append(ttr(seq[:t]))", METRICS),
    ("score-mask-shifted", "src/hyperfit/metrics.py", "valid = mask[:, 1:].bool()", "valid = mask[:, :-1].bool()",
     METRICS),
    ("perplexity-off-by-one", "src/hyperfit/metrics.py", "math.exp(nll_sum / n_tokens)",
     "math.exp(nll_sum / (n_tokens + 1))", METRICS),
    # statistics
    ("permutation-unpaired", "src/hyperfit/stats.py", 'permutation_type="samples"', 'permutation_type="independent"',
     STATS),
    ("t-interval-wrong-dof", "src/hyperfit/stats.py", "stats.t.ppf(0.5 + level / 2, n - 1)",
     "stats.t.ppf(0.5 + level / 2, n)", STATS),
    ("ratio-bootstrap-unpaired", "src/hyperfit/stats.py", "paired=True,", "paired=False,", STATS),
    ("text-pairing-by-file-order", "src/hyperfit/tables.py", 'return df.sort_values(["domain", "index"])[column]',
     "return df[column]", STATS),
    # the citation blocker and the decodings
    ("blocker-word-starts-inverted", "src/hyperfit/blocker.py", "nxt in blockable", "nxt not in blockable", BLOCKER),
    ("blocker-word-boundary-ignored", "src/hyperfit/blocker.py",
     '"word_boundary": bool(spec.get("word_boundary", True))', '"word_boundary": False', BLOCKER),
    ("blocker-prefix-one-longer", "src/hyperfit/blocker.py", "return index.get(tuple(ids[len(ids) - k:]), ())",
     "return index.get(tuple(ids[len(ids) - k - 1:]), ())", BLOCKER),
    ("repetition-penalty-not-passed", "workflow/scripts/generate_texts.py",
     'repetition_penalty=dec.get("repetition_penalty"))', "repetition_penalty=None)", GENERATION),
    ("matched-row-top-k", "src/hyperfit/settings.py", '"top_k": 0, "temperature": "matched"',
     '"top_k": 50, "temperature": "matched"', GENERATION),
    ("matched-row-top-p", "src/hyperfit/settings.py", '{"do_sample": True, "top_p": 1.0, "top_k": 0',
     '{"do_sample": True, "top_p": 0.9, "top_k": 0', GENERATION),
    ("matched-temperature-not-substituted", "workflow/scripts/generate_texts.py",
     'dec["temperature"] = read_json(sm.input.temperature)["temperature"]', 'dec["temperature"] = 1.0', GENERATION),
    ("greedy-samples", "src/hyperfit/generation.py", "do_sample=do_sample, use_cache=True",
     "do_sample=True, use_cache=True", GENERATION),
    # the follow-up's measures
    ("bias-inputs-swapped", "workflow/scripts/compute_logit_bias.py", "logit_bias_and_rank_rise(hyperfitted, original,",
     "logit_bias_and_rank_rise(original, hyperfitted,", FOLLOWUP),
    ("bias-difference-flipped", "src/hyperfit/followup.py", "diff = (a - b)[valid]", "diff = (b - a)[valid]",
     FOLLOWUP),
    ("bias-subtracted", "src/hyperfit/followup.py", "return scores + self.strength", "return scores - self.strength",
     FOLLOWUP),
    ("biased-entropy-subtracted", "src/hyperfit/followup.py", "torch.log_softmax(z + s * bias", "torch.log_softmax(z - s * bias",
     FOLLOWUP),
    ("layers-padding-counted", "src/hyperfit/followup.py", "valid = mask.bool()", "valid = torch.ones_like(mask).bool()",
     FOLLOWUP),
    ("effective-dim-uncentred", "src/hyperfit/followup.py", "x = x - x.mean(0, keepdim=True)", "x = x", FOLLOWUP),
    ("mauve-references-uncut", "workflow/scripts/measure_mauve.py", 'it["reference"][:length]', 'it["reference"]',
     FOLLOWUP),
    ("mauve-p-is-q", "workflow/scripts/measure_mauve.py", "mauve_by_domain(refs[length][0], q,", "mauve_by_domain(q, q,",
     FOLLOWUP),
    ("top-k-bias-smallest-rise", "src/hyperfit/followup.py", "order = torch.argsort(-rise, stable=True)",
     "order = torch.argsort(rise, stable=True)", FOLLOWUP),
    ("pre-norm-row-after-the-norm", "src/hyperfit/followup.py",
     "states = [*out.hidden_states[:-1], captured[0], out.hidden_states[-1]]",
     "states = [*out.hidden_states[:-1], out.hidden_states[-1], out.hidden_states[-1]]", FOLLOWUP),
    ("first-position-kept", "src/hyperfit/followup.py", "valid[:, 0] = False", "valid[:, 0] = valid[:, 0]",
     FOLLOWUP),
    ("cosine-of-one-model", "src/hyperfit/followup.py", "cosine_similarity(a, b, dim=1", "cosine_similarity(a, a, dim=1",
     FOLLOWUP),
    ("overrides-count-top1", "src/hyperfit/followup.py", '"overrides": int((rank > 1).sum())',
     '"overrides": int((rank >= 1).sum())', FOLLOWUP),
    ("rep-n-per-text-mean", "src/hyperfit/overlap.py", "return 1 - sum(u) / n if n else math.nan",
     "return sum(1 - a / b for a, b in zip(u, t) if b) / sum(1 for b in t if b) if n else math.nan", METRICS),
    # the LLM judge
    ("judge-one-order-decides", "src/hyperfit/judge.py",
     'return outcome_ab if outcome_ab == outcome_ba and outcome_ab != "equal" else "equal"',
     'return outcome_ab', JUDGE),
    # the data split
    ("containment-exact-only", "src/hyperfit/data.py", 'if any(s["text"] in t or t in s["text"] for t in train_texts)',
     'if any(s["text"] == t for t in train_texts)', DATA),
    ("span-overlap-wrong-end", "src/hyperfit/data.py", 'return any(slot["start"] < e and s < slot["end"]',
     'return any(slot["start"] < e and s < slot["start"]', DATA),
    ("windows-from-the-pool-end", "src/hyperfit/data.py", 'sorted(pool[:train["num_samples"]]',
     'sorted(pool[-train["num_samples"]:]', DATA),
    # training
    ("early-stop-flipped", "src/hyperfit/training.py", 'all(history[-1]["val_loss"] < r["val_loss"]',
     'all(history[-1]["val_loss"] > r["val_loss"]', TRAINING),
    ("early-stop-skips-epoch-0", "src/hyperfit/training.py",
     "        record(run, history, measure(run, 0, 0, None), best)",
     "        history.append(measure(run, 0, 0, None))", TRAINING),
    ("val-loss-per-text", "src/hyperfit/training.py", 'val_loss = sum(r["nll_sum"] for r in s) / n',
     'val_loss = sum(r["nll_sum"] for r in s) / len(s)', TRAINING),
]


def copy_project(dest: Path) -> None:
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, dest / name)


def run_tests(copy: Path, tests: list[str], timeout: float) -> tuple[str, float, str]:
    """'pass', 'fail' or 'timeout', the seconds taken, and pytest's last line."""
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started, ""
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED", "ERROR"))]
    summary = "; ".join(failed[:1] + lines[-1:]) if lines else ""
    return ("pass" if proc.returncode == 0 else "fail"), time.monotonic() - started, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run the mutants whose name contains one of these (comma-separated)")
    ap.add_argument("--without", action="append", default=[], help="leave this test file out (repeatable)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per pytest run")
    args = ap.parse_args()
    wanted = args.only.split(",") if args.only else None
    mutants = [m for m in MUTANTS if wanted is None or any(w in m[0] for w in wanted)]
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        base = Path(tmp) / "base"
        copy_project(base)
        all_tests = sorted({t for m in mutants for t in m[4] if t not in args.without})
        status, secs, last = run_tests(base, all_tests, args.timeout)
        print(f"unmutated: {status} ({secs:.0f} s) {last}", flush=True)
        if status != "pass":
            print("the tests fail without any mutation: no score")
            return 2
        killed = survived = 0
        for name, file, old, new, tests in mutants:
            path = base / file
            text = path.read_text(encoding="utf-8")
            if text.count(old) != 1:
                print(f"{name:40s} not applied ({text.count(old)} matches in {file})", flush=True)
                continue
            path.write_text(text.replace(old, new), encoding="utf-8")
            try:
                status, secs, last = run_tests(base, [t for t in tests if t not in args.without], args.timeout)
            finally:
                path.write_text(text, encoding="utf-8")
            outcome = "survived" if status == "pass" else "killed"
            killed += outcome == "killed"
            survived += outcome == "survived"
            print(f"{name:40s} {outcome:8s} ({secs:.0f} s) {last}", flush=True)
        total = killed + survived
        if total:
            print(f"score: {killed}/{total} killed ({100 * killed / total:.0f}%); {survived} survived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
