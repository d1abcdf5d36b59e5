"""Speed of the hyperfitting training step against a bare PyTorch loop, same model and batches, in one run.

    .venv/bin/python bench/train_speed.py [--config small|tinyllama] [--batch-size 8] [--seq-len 256]
                                          [--steps 8] [--repeats 3] [--bf16 auto|on|off] [--peak-tflops X]

The model is a Llama with random weights: `small` (~5M parameters, for a CPU) or `tinyllama` (TinyLlama-1.1B's
shape: 22 layers, hidden 2048, 32 heads with 4 KV heads, vocabulary 32000; for a GPU). Both loops train a
copy of the same initial model with Adam (lr 1e-6) on the same random token batches:

- pipeline: hyperfit.training.train_epoch, the step the train_setting rule runs (accelerate's Accelerator,
  per-step batch tensors built from token lists, loss kept on the device until the end of the epoch);
- bare: forward with labels, backward, Adam step, zero_grad on batches already on the device.

bf16 (auto: where the GPU supports it) is autocast over fp32 weights in both. Runs alternate (pipeline, bare,
pipeline, ...), each after --warmup untimed steps. Printed per loop: tokens/s and MFU = 6 x params x tokens/s
/ peak FLOP/s of its fastest run (peak from --peak-tflops, a table of GPUs, or for a CPU an estimate from its
clock and SIMD width); and the pipeline/bare ratios of wall time and of this process's CPU time, of the fastest
runs and as the median over adjacent pairs (other load on a shared machine only adds time, so the fastest
runs show the cost of the code best). The per-step losses of the two loops are compared too: the same math
on the same batches gives the same curve.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFIGS = {
    "small": dict(vocab_size=8192, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True),
    "tinyllama": dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                      num_attention_heads=32, num_key_value_heads=4, tie_word_embeddings=False),
}


def build_model(name: str, seq_len: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(**CONFIGS[name], max_position_embeddings=max(2048, seq_len), rms_norm_eps=1e-5,
                         eos_token_id=2, bos_token_id=1, pad_token_id=0, attention_dropout=0.0)
    return LlamaForCausalLM(config)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="small")
    ap.add_argument("--batch-size", type=int, default=8, help="windows per step (the paper: 8)")
    ap.add_argument("--seq-len", type=int, default=256, help="tokens per window (the paper: 256)")
    ap.add_argument("--steps", type=int, default=4, help="timed steps per run")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps before each run")
    ap.add_argument("--repeats", type=int, default=5, help="runs per loop (alternating)")
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--peak-tflops", type=float, default=None, help="peak TFLOP/s of the device (else looked up)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args()

    import torch
    from hyperfit.speed import count_params, mfu, peak_flops
    from hyperfit.training import make_accelerator, make_optimizer, train_epoch

    if args.threads:
        torch.set_num_threads(args.threads)
    bf16 = {"on": True, "off": False, "auto": None}[args.bf16]
    if bf16 is None:
        bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    accelerator = make_accelerator({"bf16": bf16})
    dev = accelerator.device
    model = build_model(args.config, args.seq_len)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    params = count_params(model)
    bare = copy.deepcopy(model).to(dev)
    bare_opt = make_optimizer(bare.parameters(), {"lr": 1e-6, "weight_decay": 0.0})  # the pipeline's Adam (fused)
    pipe_opt = make_optimizer(model.parameters(), {"lr": 1e-6, "weight_decay": 0.0})
    pipe, pipe_opt = accelerator.prepare(model, pipe_opt)

    steps_per_run = args.warmup + args.steps
    g = torch.Generator().manual_seed(1)
    data = torch.randint(3, CONFIGS[args.config]["vocab_size"],
                         (args.repeats * steps_per_run * args.batch_size, args.seq_len), generator=g)
    windows = data.tolist()  # the pipeline's input: token lists, as in results/data/<model>/tokens.json

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def run_pipeline(first: int) -> list[float]:
        order = list(range(first * args.batch_size, (first + args.warmup) * args.batch_size))
        train_epoch(accelerator, pipe, pipe_opt, windows, order, args.batch_size)
        order = list(range((first + args.warmup) * args.batch_size, (first + steps_per_run) * args.batch_size))
        return timed(lambda: train_epoch(accelerator, pipe, pipe_opt, windows, order, args.batch_size))

    def bare_steps(first: int, count: int) -> list[float]:
        losses = []
        for s in range(first, first + count):
            batch = batches[s]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                loss = bare(input_ids=batch, labels=batch).loss
            loss.backward()
            bare_opt.step()
            bare_opt.zero_grad(set_to_none=True)
            losses.append(loss.detach())
        return torch.stack(losses).tolist()

    def run_bare(first: int) -> list[float]:
        bare_steps(first, args.warmup)
        return timed(lambda: bare_steps(first + args.warmup, args.steps))

    def timed(fn):
        sync()
        wall, cpu = time.perf_counter(), time.process_time()
        losses = fn()
        sync()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
        return losses

    batches = data.view(-1, args.batch_size, args.seq_len).to(dev).unbind(0)
    bare.train()
    results = {"pipeline": [], "bare": []}
    curves = {"pipeline": [], "bare": []}
    for r in range(args.repeats):
        for name, fn in (("pipeline", run_pipeline), ("bare", run_bare)):
            times = []
            curves[name] += fn(r * steps_per_run)
            results[name].append(times[0])
    tokens = args.steps * args.batch_size * args.seq_len
    dtype = "bf16" if bf16 else "fp32"
    peak, source = peak_flops(dev, dtype, args.peak_tflops)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"model {args.config}: {params / 1e6:.1f}M parameters; batch {args.batch_size} x {args.seq_len} tokens; "
          f"{args.steps} timed steps x {args.repeats} runs per loop; {dtype}; {name}")
    print(f"peak: {peak / 1e12:.2f} TFLOP/s ({source})" if peak else f"peak: unknown ({source})")
    summary = {"config": args.config, "params": params, "device": name, "dtype": dtype, "peak_flops": peak,
               "peak_source": source, "tokens_per_run": tokens, "batch_size": args.batch_size,
               "seq_len": args.seq_len}
    for loop in ("pipeline", "bare"):
        fastest = min(t for t, _ in results[loop])
        summary[loop] = {"tokens_per_s": tokens / fastest, "wall_s": [t for t, _ in results[loop]],
                         "cpu_s": [c for _, c in results[loop]],
                         "mfu": mfu(params, tokens, fastest, peak) if peak else None}
        m = f"{summary[loop]['mfu']:.2%}" if peak else "n/a"
        print(f"  {loop:8s}  {tokens / fastest:10.1f} tokens/s   MFU {m}   (fastest of {args.repeats} runs: {fastest:.3f} s)")
    ratios = {}
    for i, kind in enumerate(("wall", "cpu")):
        pairs = [p[i] / b[i] for p, b in zip(results["pipeline"], results["bare"])]
        ratios[kind] = {"fastest": min(p[i] for p in results["pipeline"]) / min(b[i] for b in results["bare"]),
                        "median_pair": statistics.median(pairs)}
    diff = max(abs(a - b) for a, b in zip(curves["pipeline"], curves["bare"]))
    summary.update(ratios=ratios, loss_max_abs_diff=diff)
    print(f"pipeline / bare time (1.00 = no overhead): fastest runs wall {ratios['wall']['fastest']:.3f}, "
          f"CPU {ratios['cpu']['fastest']:.3f}; median of the {args.repeats} adjacent pairs wall "
          f"{ratios['wall']['median_pair']:.3f}, CPU {ratios['cpu']['median_pair']:.3f}")
    print(f"per-step losses of the two loops: max |difference| {diff:.3g} over {len(curves['bare'])} steps")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
