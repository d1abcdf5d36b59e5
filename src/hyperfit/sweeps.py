"""Experiments that train many models: data shuffling and data quantity (Figure 5), training-data type
(Table 4), and the baselines comparison (early stopping, repetition penalty, entropy-matched temperature,
sampling from the hyperfitted model), each under one or more seeds.

A *setting* is everything that decides a trained model: training domain, number of windows, window
length, optimizer updates, batch size, learning rate, weight decay, seed (which windows are drawn and
their order), order (another shuffle of the same windows) and swap (two windows exchanged). Every
experiment lists the settings it needs; a setting needed by several experiments is trained once, and a
setting equal to the main one (config data + hyperfit) is the main hyperfitted model itself.
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Sequence

from .data import _overlaps, passage_slots
from .errors import UserError

SETTING_KEYS = ("train_domain", "num_samples", "seq_len", "updates", "batch_size", "lr", "weight_decay", "seed",
                "order", "swap")
ORIGINAL = "original"  # the setting name of the base model (no training)


# ------------------------------------------------------------------------------------------ settings
def updates_per_epoch(num_samples: int, batch_size: int) -> int:
    return (num_samples + batch_size - 1) // batch_size


def main_setting(config: dict, seed: int | None = None) -> dict:
    """The main hyperfitting run (config data + hyperfit) as a setting; another seed gives its replica."""
    data, hf = config["data"], config["hyperfit"]
    return {"train_domain": data["train_domain"], "num_samples": data["num_samples"], "seq_len": data["seq_len"],
            "updates": hf["epochs"] * updates_per_epoch(data["num_samples"], hf["batch_size"]),
            "batch_size": hf["batch_size"], "lr": float(hf["lr"]), "weight_decay": float(hf["weight_decay"]),
            "seed": config["seed"] if seed is None else seed, "order": 0, "swap": False}


def base_setting(config: dict, seed: int) -> dict:
    """The setting every sweep varies one thing of (sweeps.base), under `seed`."""
    b = config["sweeps"]["base"]
    return {"train_domain": b["train_domain"], "num_samples": b["num_samples"], "seq_len": b["seq_len"],
            "updates": b["updates"], "batch_size": b["batch_size"], "lr": float(b["lr"]),
            "weight_decay": float(config["hyperfit"]["weight_decay"]), "seed": seed, "order": 0, "swap": False}


def setting_name(s: dict) -> str:
    """A readable, unique folder name: fiction-n8-L64-u24-b4-lr0.0002-wd0-s0-o0 (+ -swap)."""
    return (f"{s['train_domain']}-n{s['num_samples']}-L{s['seq_len']}-u{s['updates']}-b{s['batch_size']}"
            f"-lr{s['lr']:g}-wd{s['weight_decay']:g}-s{s['seed']}-o{s['order']}" + ("-swap" if s["swap"] else ""))


def experiments(config: dict) -> dict:
    """Per experiment and seed, the (label, setting) pairs it compares.

    shuffle: the base setting, the same with two windows swapped, and further data orders;
    quantity: the base setting with each sweeps.quantity.num_samples (same number of updates);
    data_type: the base setting trained on each sweeps.data_type.domains;
    comparison: the main setting (replicated under each seed)."""
    sw = config["sweeps"]
    out: dict = {"shuffle": {}, "quantity": {}, "data_type": {}, "comparison": {}}
    for seed in sw["seeds"]:
        base = base_setting(config, seed)
        shuffle = [("order 0", base)]
        if sw["shuffle"]["swap"]:
            shuffle.append(("order 0, one swap", {**base, "swap": True}))
        shuffle += [(f"order {k}", {**base, "order": k}) for k in range(1, sw["shuffle"]["orders"])]
        out["shuffle"][seed] = shuffle
        out["quantity"][seed] = [(n, {**base, "num_samples": n}) for n in sw["quantity"]["num_samples"]]
        out["data_type"][seed] = [(d, {**base, "train_domain": d}) for d in sw["data_type"]["domains"]]
        out["comparison"][seed] = [("hyperfitted", main_setting(config, seed))]
    return out


def all_settings(config: dict) -> dict[str, dict]:
    """Every distinct setting of every experiment, by name (each is trained once)."""
    found = {}
    for per_seed in experiments(config).values():
        for pairs in per_seed.values():
            for _, s in pairs:
                found[setting_name(s)] = s
    return dict(sorted(found.items()))


def is_main(setting: dict, config: dict) -> bool:
    return setting == main_setting(config)


def training_settings(hyperfit: dict, setting: dict, early_stopping: bool) -> dict:
    """The training loop's settings for a sweep setting: the hyperfit block (bf16, LoRA ...) with the
    setting's values and a fixed number of updates. No per-epoch generation; the validation loss after
    every epoch where early-stopped weights are kept (the comparison's replicas of the main run), else only
    before and after training (the sweeps' short epochs would spend more time measuring than training)."""
    out = {**hyperfit, **{k: setting[k] for k in ("batch_size", "lr", "weight_decay", "seed", "order", "swap")}}
    out.update(updates=setting["updates"], epochs=None, monitor_new_tokens=0,
               monitor_epochs="all" if early_stopping else "ends")
    return out


def comparison_settings(config: dict) -> set[str]:
    """Names of the settings the comparison uses (their early-stopped weights are kept)."""
    return {setting_name(s) for pairs in experiments(config)["comparison"].values() for _, s in pairs}


def check_sweeps(config: dict) -> None:
    """Settings the sweeps cannot run with, each with the fix (raised before any job runs)."""
    sw = config["sweeps"]
    domains = set(config["corpora"])
    for key, value in [("sweeps.base.train_domain", [sw["base"]["train_domain"]]),
                       ("sweeps.data_type.domains", sw["data_type"]["domains"])]:
        for d in value:
            if d not in domains:
                raise UserError(f"{key}: {d!r} has no entry under corpora (have {sorted(domains)})")
    for n in [sw["base"]["num_samples"], *sw["quantity"]["num_samples"]]:
        if n < sw["base"]["batch_size"]:
            raise UserError(f"sweeps: {n} training windows is fewer than sweeps.base.batch_size "
                            f"({sw['base']['batch_size']}): raise it or lower the batch size")
    if (sw["shuffle"]["swap"] or sw["shuffle"]["orders"] > 1) \
            and sw["base"]["num_samples"] <= sw["base"]["batch_size"]:
        raise UserError("sweeps.shuffle: with sweeps.base.num_samples <= batch_size every epoch is one batch, so "
                        "the data order cannot matter: raise sweeps.base.num_samples above the batch size")


# ------------------------------------------------------------------------------------------ data
def pool_needs(config: dict) -> dict[str, dict[int, int]]:
    """Windows each (domain, seed) pool must hold: the largest num_samples of a setting that is trained
    in the sweeps (the main setting has its own data)."""
    needs: dict[str, dict[int, int]] = defaultdict(dict)
    for s in all_settings(config).values():
        if not is_main(s, config):
            d, seed = s["train_domain"], s["seed"]
            needs[d][seed] = max(needs[d].get(seed, 0), s["num_samples"])
    return {d: dict(sorted(v.items())) for d, v in sorted(needs.items())}


def pool_seq_len(config: dict) -> dict[str, int]:
    """Tokens each domain's pool windows are cut to: the longest seq_len of its trained settings."""
    out: dict[str, int] = {}
    for s in all_settings(config).values():
        if not is_main(s, config):
            out[s["train_domain"]] = max(out.get(s["train_domain"], 0), s["seq_len"])
    return dict(sorted(out.items()))


def select_pools(corpora: dict[str, list[dict]], selection: dict, needs: dict[str, dict[int, int]],
                 words: dict[str, int], main_words: int, main_seed: int) -> dict:
    """Training passages for the sweeps: per domain and seed, `needs[domain][seed]` passages in a random
    order (a setting with N windows takes the first N, so smaller sets nest inside larger ones).

    No passage overlaps an evaluation passage of the main selection. The pool of the main training domain
    under the main seed starts with the main run's own windows (in a random order), when they are long
    enough, so a setting that differs from the main one only in order, swap or quantity trains on the same
    windows."""
    ev = selection["eval"]
    main_domain = selection["train_domain"]
    out: dict[str, dict[str, list[dict]]] = {}
    for domain, seeds in needs.items():
        if domain not in corpora:
            raise UserError(f"sweeps: training domain {domain!r} has no corpus; corpora are: {sorted(corpora)}")
        taken = defaultdict(list)
        for s in ev.get(domain, []):
            taken[s["doc"]].append((s["start"], s["end"]))
        out[domain] = {}
        for seed, count in seeds.items():
            rng = random.Random(f"sweep-pool/{domain}/{seed}")
            reuse_main = domain == main_domain and seed == main_seed and words[domain] <= main_words
            first: list[dict] = []
            avoid = {k: list(v) for k, v in taken.items()}
            w = words[domain]
            if reuse_main:
                first = list(selection["train"])
                rng.shuffle(first)
                for s in first:
                    avoid.setdefault(s["doc"], []).append((s["start"], s["end"]))
                w = main_words  # the main run's grid, so the windows it did not take are its other slots
            free = [s for d in corpora[domain] for s in passage_slots(d["id"], d["text"], w)
                    if not _overlaps(s, avoid.get(s["doc"], []))]
            rng.shuffle(free)
            pool = (first + free)[:count]
            if len(pool) < count:
                raise UserError(
                    f"sweeps: domain {domain!r} has text for {len(first) + len(free)} training windows of {w} "
                    f"words outside the evaluation texts; the sweeps need {count} (seed {seed}): lower "
                    "sweeps.quantity.num_samples / sweeps.base.seq_len or add text to the corpus")
            out[domain][str(seed)] = pool
    return out


def setting_windows(pools: dict, setting: dict) -> list[list[int]]:
    """The training windows of a setting: the first num_samples of its (domain, seed) pool, in text
    order (document, position), cut to seq_len tokens."""
    try:
        pool = pools[setting["train_domain"]][str(setting["seed"])]
    except KeyError:
        raise UserError(f"no sweep data for domain {setting['train_domain']!r}, seed {setting['seed']}: "
                        "rerun the workflow so that the sweep data is selected again") from None
    if len(pool) < setting["num_samples"]:
        raise UserError(f"the sweep pool of {setting['train_domain']!r} (seed {setting['seed']}) has {len(pool)} "
                        f"windows, the setting needs {setting['num_samples']}")
    chosen = sorted(pool[:setting["num_samples"]], key=lambda p: (p["doc"], p["start"]))
    short = [p for p in chosen if len(p["ids"]) < setting["seq_len"]]
    if short:
        raise UserError(f"a {setting['train_domain']} training passage has {len(short[0]['ids'])} tokens, fewer than "
                        f"seq_len {setting['seq_len']}: raise data.words_per_token")
    return [p["ids"][:setting["seq_len"]] for p in chosen]


# ------------------------------------------------------------------------------------------ statistics
def mean_ci(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean over seeds with a Student-t interval; one value has no interval (NaN bounds)."""
    from scipy import stats

    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0:
        raise ValueError("no values")
    mean = sum(vals) / n
    if n == 1:
        return {"mean": mean, "ci_low": math.nan, "ci_high": math.nan, "seeds": 1}
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "seeds": n}


def top1_agreement(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> float:
    """Share of positions, pooled over texts, where two models' most probable next tokens are equal."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        raise ValueError("the two models' predictions cover different texts or positions")
    same = sum(int(p == q) for x, y in zip(a, b) for p, q in zip(x, y))
    total = sum(len(x) for x in a)
    return same / total


def agreement_rows(preds: dict[str, Sequence[Sequence[int]]]) -> list[dict]:
    """Every ordered pair of models (a, b) with their top-1 agreement (the diagonal is 1)."""
    return [{"a": a, "b": b, "agreement": top1_agreement(pa, pb)} for a, pa in preds.items() for b, pb in preds.items()]


def format_ci(row: dict, digits: int = 3) -> str:
    """'0.512 [0.498, 0.526]' or '0.512' for one seed."""
    if math.isnan(row["ci_low"]):
        return f"{row['mean']:.{digits}f}"
    return f"{row['mean']:.{digits}f} [{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}]"


# ------------------------------------------------------------------------------------------ temperature
def entropy_nll_at_temperatures(model, sequences: list[list[int]], temperatures: Sequence[float], pad_id: int,
                                batch_size: int = 8, progress=None) -> list[dict]:
    """Token-pooled mean next-token entropy and NLL (nats) of softmax(logits / T) on the sequences
    (teacher-forced, positions 1..n-1), for each temperature T; one forward pass per batch."""
    import torch

    from .metrics import entropy_from_logp, right_padded

    temps = [float(t) for t in temperatures]
    ent = [0.0] * len(temps)
    nll = [0.0] * len(temps)
    count = 0
    model.eval()
    for b in range(0, len(sequences), batch_size):
        ids, mask = right_padded(sequences[b:b + batch_size], pad_id, model)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        valid = mask[:, 1:].bool()
        target = ids[:, 1:][valid]
        z = logits[valid]  # (positions, vocab)
        count += int(valid.sum())
        for k, t in enumerate(temps):  # float32 per position (2x faster than float64), sums in float64
            logp = torch.log_softmax(z / t, dim=-1)
            ent[k] += float(entropy_from_logp(logp).sum(dtype=torch.float64))
            nll[k] += float(-logp.gather(-1, target.unsqueeze(-1)).sum(dtype=torch.float64))
        if progress is not None:
            progress.update(len(ids))
    return [{"temperature": t, "entropy": e / count, "nll": n / count} for t, e, n in zip(temps, ent, nll)]


def geometric_grid(low: float, high: float, points: int) -> list[float]:
    return [low * (high / low) ** (i / (points - 1)) for i in range(points)]


def bracket(curve: list[dict], target: float) -> tuple[dict, dict] | None:
    """The neighbouring grid points whose entropies enclose `target` (entropy rises with T), or None."""
    for lo, hi in zip(curve, curve[1:]):
        if lo["entropy"] <= target <= hi["entropy"]:
            return lo, hi
    return None


def interpolate(lo: dict, hi: dict, target: float) -> dict:
    """Linear interpolation of temperature (and NLL) at the target entropy between two grid points."""
    span = hi["entropy"] - lo["entropy"]
    f = 0.0 if span == 0 else (target - lo["entropy"]) / span
    return {"temperature": lo["temperature"] + f * (hi["temperature"] - lo["temperature"]),
            "entropy": target, "nll": lo["nll"] + f * (hi["nll"] - lo["nll"])}


def pooled_entropy(scores: list[dict]) -> float:
    """Token-pooled mean next-token entropy (nats) of a scores file (score_sequences records)."""
    return sum(r["entropy_sum"] for r in scores) / sum(r["n"] for r in scores)


def match_temperature(model, sequences: list[list[int]], target: float, pad_id: int, low: float, high: float,
                      points: int, batch_size: int = 8, progress=None) -> dict:
    """The temperature T at which the model's mean entropy on `sequences` equals `target`: entropies on a
    geometric grid low..high, then on a linear grid inside the bracketing step, then linear interpolation.
    A target outside the range gives the nearest end, with matched=False."""
    coarse = entropy_nll_at_temperatures(model, sequences, geometric_grid(low, high, points), pad_id, batch_size,
                                         progress)
    found = bracket(coarse, target)
    fine: list[dict] = []
    if found is None:
        best = coarse[0] if target < coarse[0]["entropy"] else coarse[-1]
        result = {**best, "matched": False}
    else:
        lo, hi = found
        step = (hi["temperature"] - lo["temperature"]) / (points - 1)
        fine = entropy_nll_at_temperatures(model, sequences, [lo["temperature"] + i * step for i in range(points)],
                                           pad_id, batch_size, progress)
        result = {**interpolate(*(bracket(fine, target) or found), target), "matched": True}
    return {**result, "ppl": math.exp(result["nll"]), "target_entropy": target, "coarse": coarse, "fine": fine}
