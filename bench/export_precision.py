"""Does exporting trained weights in bf16 undo what hyperfitting at the paper's learning rate changed?

Hyperfits the embedded default's model (SmolLM2-135M) on the default's own training windows with the paper's
constant lr 1e-6 (Adam, batch 4, fp32 master weights, the project's training loop `hyperfit.training.hyperfit`)
for as many updates as are asked, then compares the trained fp32 weights with the same weights rounded to bf16
(what `save_pretrained` writes when the saved dtype is bfloat16):

1. per parameter element: the share of the elements training changed (w_trained != w_initial) whose change the
   export rounds away (bf16(w_trained) == bf16(w_initial)); the share of the change's L2 norm that those
   elements carry; and the relative error of the change the exported weights carry,
   ||(bf16(w_trained) - bf16(w_initial)) - (w_trained - w_initial)|| / ||w_trained - w_initial||;
2. greedy TTR (the project's metric: the last metrics.ttr_window generated tokens, mean over texts) of the
   evaluation texts' continuations, for the initial and trained weights in fp32 and rounded to bf16 (computed in
   fp32, so only the export's rounding differs), and the share of the trained-minus-initial TTR change lost.

With --run DIR, the same element statistics and greedy TTRs (no training) for a finished run's fp32 model
folder, e.g. the embedded default's results/train/smollm2-135m/hyperfitted/model (lr 1e-4 x 48 updates: the same
lr x updates as the paper's 1e-6 x 5000, and the hyperfitting effect, which 24 updates at 1e-6 do not reach).

    .venv/bin/python bench/export_precision.py --workdir WORK [--updates 40] [--lr 1e-6] [--texts 30] [--run DIR]

WORK is a folder where the default config has built resources/models/smollm2-135m and
results/data/smollm2-135m/tokens.json (`snakemake --cores 1 results/data/smollm2-135m/tokens.json`).
Prints one JSON object and a summary; the numbers quoted in config/paper.yaml come from it.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def change_stats(initial: dict, trained: dict) -> dict:
    """Element statistics of trained - initial against bf16(trained) - bf16(initial), over every parameter."""
    import torch

    changed = rounded_away = 0
    norm2 = lost2 = err2 = 0.0
    total = 0
    for name, w0 in initial.items():
        w0, w1 = w0.float(), trained[name].float()
        delta = w1 - w0
        moved = delta != 0
        b0, b1 = w0.to(torch.bfloat16).float(), w1.to(torch.bfloat16).float()
        away = moved & (b0 == b1)
        total += w0.numel()
        changed += int(moved.sum())
        rounded_away += int(away.sum())
        norm2 += float((delta.double() ** 2).sum())
        lost2 += float((delta[away].double() ** 2).sum())
        err2 += float((((b1 - b0) - delta).double() ** 2).sum())
    return {"elements": total, "changed": changed, "changed_share": changed / total,
            "rounded_away": rounded_away, "rounded_away_share": rounded_away / max(changed, 1),
            "change_norm": math.sqrt(norm2), "norm_share_rounded_away": math.sqrt(lost2 / norm2) if norm2 else 0.0,
            "exported_change_relative_error": math.sqrt(err2 / norm2) if norm2 else 0.0}


def state(model) -> dict:
    """Every parameter once (tied embeddings once), as CPU fp32 copies."""
    return {name: p.detach().to("cpu", copy=True).float() for name, p in model.named_parameters()}


def greedy_ttr(model, items: list[dict], new_tokens: int, window: int, pad_id: int, batch_size: int) -> float:
    from hyperfit.generation import generate_batched
    from hyperfit.metrics import ttr

    gen = generate_batched(model, [it["context"] for it in items], new_tokens, pad_id, batch_size=batch_size)
    return sum(ttr(g, window) for g in gen) / len(gen)


def with_weights(model, weights: dict, bf16: bool):
    """`model` holding `weights` (rounded to bf16 and back to fp32 if asked)."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            w = weights[name]
            p.copy_(w.to(torch.bfloat16).float() if bf16 else w)
    return model


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="folder where the default config built the model and tokens")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--updates", type=int, default=40, help="Adam updates (the default's batch of 4 windows)")
    parser.add_argument("--lr", type=float, default=1e-6, help="constant learning rate (the paper's 1e-6)")
    parser.add_argument("--texts", type=int, default=30, help="evaluation texts whose greedy TTR is measured")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--paper-updates", type=int, default=5000,
                        help="also: the change scaled linearly to this many updates (the paper's 5000)")
    parser.add_argument("--run", default=None, help="also: element statistics and greedy TTR (fp32, bf16) of a finished "
                                                    "run's fp32 model folder")
    args = parser.parse_args(argv)

    import torch
    import yaml

    from hyperfit import settings as S
    from hyperfit.data import setting_windows
    from hyperfit.modeling import load_model, load_tokenizer
    from hyperfit.runner import read_json
    from hyperfit.training import hyperfit

    torch.set_num_threads(args.threads)
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    work = Path(args.workdir)
    model_dir = work / "resources/models" / args.model
    tokens = read_json(work / f"results/data/{args.model}/tokens.json")
    train = setting_windows(tokens, S.main_train(config))
    hf = config["hyperfit"]
    per_epoch = (len(train) + hf["batch_size"] - 1) // hf["batch_size"]
    settings = {**hf, "lr": args.lr, "seed": config["seed"], "ttr_window": config["metrics"]["ttr_window"],
                "updates": args.updates, "epochs": None, "monitor_epochs": "ends", "monitor_new_tokens": 0,
                "checkpoint_minutes": 10_000, "keep_checkpoint": False}
    window, pad_id = config["metrics"]["ttr_window"], tokens["pad_id"]
    items = tokens["eval"][:args.texts]
    new_tokens, batch = config["generation"]["lengths"][0], config["generation"]["batch_size"]

    torch.manual_seed(config["seed"])
    model = load_model(str(model_dir), "float32", for_training=True)
    tok = load_tokenizer(str(model_dir))
    initial = state(model)
    started = time.monotonic()
    history = [{"train_loss": math.nan, "val_loss": math.nan}]
    if args.updates:  # --updates 0: no training, only the initial weights (and --run)
        with tempfile.TemporaryDirectory() as tmp:
            history = hyperfit(model, tok, train, tokens["validation"][config["data"]["train_domain"]], settings,
                               f"{tmp}/model", f"{tmp}/ck", log=lambda *_: None, pad_id=pad_id)
    seconds = time.monotonic() - started
    trained = state(model)
    out = {"model": args.model, "lr": args.lr, "updates": args.updates, "batch_size": hf["batch_size"],
           "windows": len(train), "epochs": math.ceil(args.updates / per_epoch), "train_seconds": round(seconds, 1),
           "train_loss": [history[0]["train_loss"], history[-1]["train_loss"]],
           "val_loss": [history[0]["val_loss"], history[-1]["val_loss"]],
           "elements": change_stats(initial, trained)}
    # the largest change of any element, against half a bf16 step of a typical weight
    out["max_abs_change"] = max(float((trained[k] - initial[k]).abs().max()) for k in initial)
    out["max_change_bound"] = args.lr * args.updates  # Adam moves an element at most ~lr per update
    # Extrapolated: every element's change scaled to --paper-updates as if each update moved it the same way
    # (gradient signs that stay the same; the largest drift Adam allows). An estimate, not a measurement.
    if args.updates:
        k = args.paper_updates / args.updates
        out["extrapolated"] = {"updates": args.paper_updates, "elements": change_stats(
            initial, {n: initial[n] + k * (trained[n] - initial[n]) for n in initial})}
    ttrs = {}
    variants = (("initial fp32", initial, False), ("initial bf16", initial, True),
                ("trained fp32", trained, False), ("trained bf16", trained, True))
    for label, weights, bf16 in variants[:4 if args.updates else 2]:
        ttrs[label] = greedy_ttr(with_weights(model, weights, bf16), items, new_tokens, window, pad_id, batch)
    out["greedy_ttr"] = ttrs
    if args.updates:
        effect = ttrs["trained fp32"] - ttrs["initial fp32"]
        out["ttr_effect_fp32"] = effect
        out["ttr_effect_bf16_export"] = ttrs["trained bf16"] - ttrs["initial bf16"]
        out["ttr_effect_share_lost"] = (1 - out["ttr_effect_bf16_export"] / effect) if effect else None
    if args.run:  # a finished run: its element statistics and its greedy TTR in fp32 and exported in bf16
        from transformers import AutoModelForCausalLM

        done = state(AutoModelForCausalLM.from_pretrained(args.run, dtype=torch.float32))
        run_ttr = {f"run {label}": greedy_ttr(with_weights(model, done, bf16), items, new_tokens, window, pad_id, batch)
                   for label, bf16 in (("fp32", False), ("bf16", True))}
        effect_run = run_ttr["run fp32"] - ttrs["initial fp32"]
        exported = run_ttr["run bf16"] - ttrs["initial bf16"]
        out["run"] = {"path": args.run, "elements": change_stats(initial, done), "greedy_ttr": run_ttr,
                      "ttr_effect_fp32": effect_run, "ttr_effect_bf16_export": exported,
                      "ttr_effect_share_lost": (1 - exported / effect_run) if effect_run else None}
    print(json.dumps(out, indent=1))
    if not args.updates:
        return out
    e = out["elements"]
    print(f"\n{args.updates} updates at lr {args.lr:g} ({seconds:.0f} s): {e['changed_share']:.1%} of elements changed; "
          f"bf16 export rounds away the change of {e['rounded_away_share']:.1%} of them, carrying "
          f"{e['norm_share_rounded_away']:.1%} of the change's norm; exported change off by "
          f"{e['exported_change_relative_error']:.1%}. Greedy TTR initial {ttrs['initial fp32']:.4f} -> trained "
          f"{ttrs['trained fp32']:.4f} in fp32, {ttrs['initial bf16']:.4f} -> {ttrs['trained bf16']:.4f} exported "
          f"in bf16.", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
