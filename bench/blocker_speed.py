"""Cost of the citation blocker over plain greedy decoding, same model, contexts and batch, in one run.

    .venv/bin/python bench/blocker_speed.py [--model PATH] [--batch-size 16] [--new-tokens 96] [--repeats 3]

The model defaults to resources/models/smollm2-135m when the workflow has built it, else a small random
Llama (no tokenizer, so only the token-level blocker). The index is built at the paper's size
(--train-samples x --train-len tokens) and is seeded with plain greedy's own continuations, so the blocker
finds a training prefix at every step until it steers away from it: a heavy case for its cost. Plain and
blocked runs alternate. Printed: the ratios of wall time and of this process's CPU time (fastest and median
runs; the headline is the median CPU-time ratio, which other load on a shared machine inflates least;
target: at most 1.10), and the time spent inside the blocker itself.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_MODEL = ROOT / "resources/models/smollm2-135m"


def random_llama(out: Path, vocab: int = 4096) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
                         eos_token_id=0, pad_token_id=0, bos_token_id=0)
    LlamaForCausalLM(config).save_pretrained(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="a Hugging Face model folder")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--contexts", type=int, default=16, help="contexts per run (one batch by default)")
    ap.add_argument("--context-len", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=96)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--word-boundary", action="store_true", help="the word-boundary variant (needs a tokenizer)")
    ap.add_argument("--train-samples", type=int, default=2000, help="training windows in the index")
    ap.add_argument("--train-len", type=int, default=256, help="tokens per training window")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()

    import torch
    from hyperfit.blocker import CitationBlocker, ngram_index, word_start_ids
    from hyperfit.generation import generate_batched
    from hyperfit.modeling import device, load_model, load_tokenizer
    from transformers import LogitsProcessor, LogitsProcessorList

    class Timed(LogitsProcessor):
        """The blocker, with the wall time spent in its calls summed up."""

        def __init__(self, inner):
            self.inner, self.seconds = inner, 0.0

        def __call__(self, input_ids, scores):
            t0 = time.perf_counter()
            out = self.inner(input_ids, scores)
            if out.device.type == "cuda":
                torch.cuda.synchronize()
            self.seconds += time.perf_counter() - t0
            return out

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or (DEFAULT_MODEL if (DEFAULT_MODEL / "config.json").exists()
                              else random_llama(Path(tmp) / "random-llama"))
        model = load_model(str(path))
        has_tokenizer = (Path(path) / "tokenizer_config.json").exists()
        tok = load_tokenizer(str(path)) if has_tokenizer else None
    if args.word_boundary and tok is None:
        sys.exit("--word-boundary needs a model folder with a tokenizer")
    vocab = model.config.vocab_size
    special = set(tok.all_special_ids) if tok is not None else {model.config.eos_token_id}
    pad_id = tok.pad_token_id if tok is not None else model.config.eos_token_id
    gen = torch.Generator().manual_seed(0)

    def random_ids(rows: int, length: int) -> list[list[int]]:
        ids = torch.randint(0, vocab, (rows, length), generator=gen).tolist()
        return [[t if t not in special else t + 3 for t in row] for row in ids]

    contexts = random_ids(args.contexts, args.context_len)

    def plain():
        return generate_batched(model, contexts, args.new_tokens, pad_id, batch_size=args.batch_size)

    print(f"model {path} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters) on {device()}, "
          f"threads {torch.get_num_threads()}, {args.contexts} contexts x {args.new_tokens} new tokens, "
          f"batch {args.batch_size}")
    greedy = plain()  # also the warm-up
    train = [c + g for c, g in zip(contexts, greedy)]
    train += random_ids(max(0, args.train_samples - len(train)), args.train_len)
    t0 = time.perf_counter()
    index = ngram_index(train, args.ngram, word_start_ids(tok) if args.word_boundary else None)
    print(f"index: {len(index)} prefixes from {len(train)} windows, built in {time.perf_counter() - t0:.2f} s "
          f"({'word-boundary' if args.word_boundary else 'token-level'} variant, n = {args.ngram})")

    wall: dict[str, list[float]] = {"plain": [], "blocked": []}
    cpu: dict[str, list[float]] = {"plain": [], "blocked": []}
    inside: list[float] = []
    blocker = None
    for _ in range(args.repeats):
        for mode in ("plain", "blocked"):
            if device().type == "cuda":
                torch.cuda.synchronize()
            t0, c0 = time.perf_counter(), time.process_time()
            if mode == "plain":
                plain()
            else:
                blocker = CitationBlocker(index, args.ngram)
                timed = Timed(blocker)
                generate_batched(model, contexts, args.new_tokens, pad_id, batch_size=args.batch_size,
                                 logits_processor=LogitsProcessorList([timed]))
                inside.append(timed.seconds)
            if device().type == "cuda":
                torch.cuda.synchronize()
            wall[mode].append(time.perf_counter() - t0)
            cpu[mode].append(time.process_time() - c0)
    for name, times in (("wall", wall), ("CPU", cpu)):
        for m, v in times.items():
            print(f"{name:4s} {m:8s} fastest {min(v):.3f} s  median {statistics.median(v):.3f} s  runs "
                  + " ".join(f"{t:.3f}" for t in v))
    steps = args.new_tokens * -(-args.contexts // args.batch_size)
    print(f"blocker: {blocker.hits} of {blocker.steps} row-steps had blocked candidates, {blocker.changed} changed "
          f"the greedy choice; {statistics.median(inside) * 1e3:.1f} ms inside the blocker per run "
          f"({statistics.median(inside) / steps * 1e6:.0f} us per step)")

    def ratio(times, pick):
        return pick(times["blocked"]) / pick(times["plain"])

    own = (statistics.median(wall["plain"]) + statistics.median(inside)) / statistics.median(wall["plain"])
    headline = ratio(cpu, statistics.median)
    print(f"cost ratio blocked / plain: wall {ratio(wall, min):.3f} fastest, {ratio(wall, statistics.median):.3f} "
          f"median; CPU {ratio(cpu, min):.3f} fastest, {headline:.3f} median; {own:.3f} from the time inside the "
          "blocker")
    print(f"cost ratio (CPU time, median runs): {headline:.3f} (target <= 1.10: {'met' if headline <= 1.10 else 'NOT met'})")

if __name__ == "__main__":
    main()
