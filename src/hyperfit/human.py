"""Human preference study: blind pairwise packets (a static HTML page and a CSV template per rater, the key
kept apart), ingestion of the completed rater files, preference shares, Fleiss' kappa and bootstrap
intervals. Every pair is one evaluation context with the model's continuation and the original (human)
continuation of the same length; a rater says which continuation is better, or that they are equal."""
from __future__ import annotations

import csv
import hashlib
import html
import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UserError
from .tables import NOT_COLLECTED

CHOICES = ("A", "B", "equal")
OUTCOMES = ("model", "reference", "equal")  # the columns of Fleiss' kappa's count matrix, in this order
UNDEFINED = "undefined"
GROUP = ["model", "variant", "decoding", "length"]
PAIR = [*GROUP, "domain", "index"]
ALL_DOMAINS = "all"
SHARES = ("preferred", "equal", "preferred_or_equal")
TABLE1_COLUMNS = {"preferred_or_equal": "human_pref_or_equal", "preferred_or_equal_lo": "human_pref_or_equal_lo",
                  "preferred_or_equal_hi": "human_pref_or_equal_hi", "preferred": "human_preferred",
                  "equal": "human_equal", "kappa": "human_kappa"}


# ------------------------------------------------------------------------------------------------ packets
def reference_texts(items: list[dict], length: int, decode) -> dict[tuple[str, int], str]:
    """The human continuation of each evaluation text, cut to the model's `length` tokens (so both texts of a
    pair are equally long), keyed by (domain, index)."""
    out = {}
    for it in items:
        if len(it["reference"]) < length:
            raise UserError(f"evaluation text {it['domain']}/{it['index']} has {len(it['reference'])} reference "
                            f"tokens, fewer than the {length} generated: raise data.reference_len")
        out[(it["domain"], it["index"])] = decode(it["reference"][:length])
    return out


def generation_pairs(rows: list[dict], references: dict[tuple[str, int], str], model: str, variant: str,
                     decoding: str, length: int) -> list[dict]:
    """One pair per generated continuation (a generation JSONL's rows) and its human reference."""
    pairs = []
    for row in rows:
        ref = references.get((row["domain"], row["index"]))
        if ref is None:
            raise UserError(f"{model}/{variant}/{decoding}-{length}: no reference for {row['domain']}/{row['index']}")
        pairs.append({"model": model, "variant": variant, "decoding": decoding, "length": int(length),
                      "domain": row["domain"], "index": int(row["index"]), "context": row["context"],
                      "model_text": row["text"], "reference_text": ref})
    return pairs


def item_raters(position: int, raters: int, ratings_per_pair: int) -> list[int]:
    """Raters (1-based) of the item at `position` of the shuffled item list: consecutive raters, round robin,
    so every rater gets the same number of items (within one) and no rater sees an item twice."""
    return sorted((position * ratings_per_pair + j) % raters + 1 for j in range(ratings_per_pair))


def make_study(pairs: list[dict], raters: int, ratings_per_pair: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Blind items: (key, packets). key: one row per item (item_id, the pair's model/variant/decoding/length/
    domain/index, model_side A or B, raters). packets: rater -> that rater's items in their own shuffled
    order, each {item_id, context, A, B} and nothing else. Item order, sides (half A, half B) and each
    rater's order derive from `seed` alone."""
    if not 2 <= ratings_per_pair <= raters:
        raise UserError(f"human.ratings_per_pair ({ratings_per_pair}) must be 2..human.raters ({raters})")
    pairs = sorted(pairs, key=lambda p: tuple(p[c] for c in PAIR))
    seen = set()
    for p in pairs:
        ident = tuple(p[c] for c in PAIR)
        if ident in seen:
            raise UserError(f"pair {ident} occurs twice: each comparison may be listed once")
        seen.add(ident)
    n = len(pairs)
    if n * ratings_per_pair < raters:
        raise UserError(f"{n} pairs x {ratings_per_pair} ratings leave some of the {raters} raters without "
                        "items: lower human.raters")
    rng = random.Random(f"human-study-{seed}")
    order = list(range(n))
    rng.shuffle(order)
    sides = (["A", "B"] * (n // 2 + 1))[:n]
    rng.shuffle(sides)
    width = max(4, len(str(n)))
    key_rows, packets = [], {r: [] for r in range(1, raters + 1)}
    for position, i in enumerate(order):
        pair, side = pairs[i], sides[position]
        item_id = f"item-{position + 1:0{width}d}"
        assigned = item_raters(position, raters, ratings_per_pair)
        key_rows.append({"item_id": item_id, **{c: pair[c] for c in PAIR}, "model_side": side,
                         "raters": " ".join(map(str, assigned))})
        a, b = (pair["model_text"], pair["reference_text"])[:: 1 if side == "A" else -1]
        for r in assigned:
            packets[r].append({"item_id": item_id, "context": pair["context"], "A": a, "B": b})
    for r, items in packets.items():
        random.Random(f"human-rater-{seed}-{r}").shuffle(items)
    return pd.DataFrame(key_rows), packets


def packet_csv(items: list[dict]) -> str:
    """The CSV a rater fills by hand: item_id and an empty choice (A, B or equal), in the packet's order."""
    return "item_id,choice\n" + "".join(f"{it['item_id']},\n" for it in items)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: Georgia, serif; max-width: 68em; margin: 1.5em auto; padding: 0 1em; line-height: 1.45; }}
header {{ position: sticky; top: 0; background: #fff; border-bottom: 1px solid #bbb; padding: .5em 0; }}
section {{ border: 1px solid #ccc; border-radius: 6px; margin: 1.2em 0; padding: .8em 1em; }}
section.done {{ border-color: #6a6; }}
.context {{ color: #444; background: #f4f4f4; padding: .5em .7em; white-space: pre-wrap; }}
.pair {{ display: flex; gap: 1em; margin: .6em 0; }}
.pair > div {{ flex: 1; white-space: pre-wrap; border-left: 3px solid #88a; padding-left: .7em; }}
.choices label {{ margin-right: 1.6em; cursor: pointer; }}
h2 {{ font-size: 1em; margin: 0 0 .4em; }} h3 {{ margin: 0 0 .3em; font-size: 1em; }}
button {{ font-size: 1em; }}
</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>{question}</p>
<p>Read the beginning of each text, then the two continuations A and B, and choose the better one (or
&ldquo;equal&rdquo;). Your answers are kept in this browser while you work. When done, press
<button type="button" id="export">Export CSV</button> and send the downloaded file
<code>{filename}</code>. Answered: <span id="done">0</span> / {count}.</p>
</header>
<main>
{sections}
</main>
<script>
"use strict";
const ITEMS = {ids};
const FILENAME = {filename_js};
const STORE = {store_js};
function csvText(ids, answers) {{
  return "item_id,choice\\n" + ids.map(function (id) {{ return id + "," + (answers[id] || ""); }}).join("\\n") + "\\n";
}}
function collect() {{
  const answers = {{}};
  ITEMS.forEach(function (id) {{
    const checked = document.querySelector('input[name="' + id + '"]:checked');
    if (checked) answers[id] = checked.value;
  }});
  return answers;
}}
function refresh(answers) {{
  ITEMS.forEach(function (id) {{
    document.getElementById(id).className = answers[id] ? "done" : "";
  }});
  document.getElementById("done").textContent = Object.keys(answers).length;
}}
if (typeof document !== "undefined") {{
  // Answers are kept twice: in localStorage (they survive closing the tab) and in the page's own address after
  // '#' (they survive a reload even where a browser keeps no storage for local files, or has not yet written it).
  let saved = {{}};
  try {{ saved = JSON.parse(window.localStorage.getItem(STORE) || "{{}}"); }} catch (e) {{ saved = {{}}; }}
  try {{ Object.assign(saved, Object.fromEntries(new URLSearchParams(window.location.hash.slice(1)))); }} catch (e) {{ }}
  ITEMS.forEach(function (id) {{
    if (saved[id]) {{
      const input = document.querySelector('input[name="' + id + '"][value="' + saved[id] + '"]');
      if (input) input.checked = true;
    }}
  }});
  refresh(collect());
  document.addEventListener("change", function () {{
    const answers = collect();
    try {{ window.localStorage.setItem(STORE, JSON.stringify(answers)); }} catch (e) {{ /* private mode */ }}
    try {{ window.history.replaceState(null, "", "#" + new URLSearchParams(answers)); }}
    catch (e) {{ window.location.hash = new URLSearchParams(answers).toString(); }}
    refresh(answers);
  }});
  document.getElementById("export").addEventListener("click", function () {{
    const answers = collect();
    const missing = ITEMS.length - Object.keys(answers).length;
    const question = missing + " of " + ITEMS.length + " items have no answer yet. Export anyway?";
    if (missing > 0 && !window.confirm(question)) return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([csvText(ITEMS, answers)], {{type: "text/csv"}}));
    link.download = FILENAME;
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
  }});
}}
</script>
</body>
</html>
"""

_SECTION = """<section id="{id}">
<h2>{number} / {count} <small>({id})</small></h2>
<div class="context">{context}&hellip;</div>
<div class="pair"><div><h3>A</h3>{a}</div><div><h3>B</h3>{b}</div></div>
<div class="choices">{radios}</div>
</section>"""

_LABELS = {"A": "A is better", "B": "B is better", "equal": "equally good"}


def packet_html(rater: int, items: list[dict], question: str) -> str:
    """A self-contained page (no external resources, no network) for one rater: every item's context, text A,
    text B and radio buttons A / B / equal; answers persist in the browser and export as rater<N>.csv."""
    count = len(items)
    ids = [it["item_id"] for it in items]
    sections = []
    for number, it in enumerate(items, 1):
        radios = "".join(f'<label><input type="radio" name="{it["item_id"]}" value="{c}"> {_LABELS[c]}</label>'
                         for c in CHOICES)
        sections.append(_SECTION.format(id=it["item_id"], number=number, count=count,
                                        context=html.escape(it["context"]), a=html.escape(it["A"]),
                                        b=html.escape(it["B"]), radios=radios))
    study = hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:12]
    filename = rater_filename(rater)
    return _PAGE.format(title=f"Which continuation is better? Rater {rater}", question=html.escape(question),
                        filename=filename, count=count, sections="\n".join(sections), ids=json.dumps(ids),
                        filename_js=json.dumps(filename), store_js=json.dumps(f"hyperfit-{study}-rater{rater}"))


def rater_filename(rater: int) -> str:
    return f"rater{rater}.csv"


# ---------------------------------------------------------------------------------------------- ingestion
_RATER = re.compile(r"rater0*(\d+)(?!\d)", re.IGNORECASE)


def rater_of(path: str | Path) -> int:
    """The rater a completed file belongs to, from its name (rater<N>.csv as exported; 'rater2 (1).csv' or
    'rater2_final.csv' work too)."""
    match = _RATER.search(Path(path).name)
    if not match:
        raise UserError(f"{path}: cannot tell which rater answered; name the file rater<N>.csv as exported")
    return int(match.group(1))


def read_rater_file(path: str | Path, expected: list[str]) -> dict[str, str]:
    """A completed rater file: item_id -> choice (A, B or equal; case and spaces ignored). Any malformed row,
    unknown or repeated item, empty choice, or missing item raises a UserError naming the file and row."""
    path = Path(path)
    expected_set = set(expected)
    answers, first_row = {}, {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the rater file ({exc})") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    names = [h.strip().lower() for h in header or []]
    if "item_id" not in names or "choice" not in names:
        raise UserError(f"{path}, row 1: the header must name the columns item_id and choice (got {header})")
    i_id, i_choice = names.index("item_id"), names.index("choice")
    for fields in reader:
        row = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) <= max(i_id, i_choice):
            raise UserError(f"{path}, row {row}: {len(fields)} fields, the header has {len(names)}")
        item, raw = fields[i_id].strip(), fields[i_choice].strip()
        if item not in expected_set:
            raise UserError(f"{path}, row {row}: item_id {item!r} is not in this rater's packet")
        if item in first_row:
            raise UserError(f"{path}, row {row}: item {item} is answered again (first at row {first_row[item]})")
        first_row[item] = row
        choice = next((c for c in CHOICES if c.lower() == raw.lower()), None)
        if choice is None:
            what = "no choice (the file is partial: answer every item)" if not raw else f"choice {raw!r}"
            raise UserError(f"{path}, row {row}: item {item} has {what}; allowed: {', '.join(CHOICES)}")
        answers[item] = choice
    missing = [i for i in expected if i not in answers]
    if missing:
        raise UserError(f"{path}: partial file, {len(missing)} of {len(expected)} items have no row "
                        f"(first: {missing[0]}); export again after answering every item")
    return answers


def annotation_files(entries: list[str]) -> list[str]:
    """The rater files named by the config: files as given, folders expanded to their *.csv (sorted)."""
    files = []
    for entry in entries:
        p = Path(entry)
        if p.is_dir():
            found = sorted(str(f) for f in p.glob("*.csv"))
            if not found:
                raise UserError(f"human.annotations: folder {entry} has no .csv files")
            files.extend(found)
        elif p.is_file():
            files.append(str(p))
        else:
            raise UserError(f"human.annotations: {entry} does not exist")
    return files


def ingest(paths: list[str], key: pd.DataFrame) -> pd.DataFrame | None:
    """All ratings (rater, item_id, choice, outcome = model / reference / equal), or None without files.
    Every rater of the key must have exactly one complete file: a missing, extra or malformed file stops
    the ingestion with a UserError rather than changing the numbers."""
    if not paths:
        return None
    assigned = {}
    for item_id, raters in zip(key["item_id"], key["raters"].astype(str)):
        for r in map(int, raters.split()):
            assigned.setdefault(r, []).append(item_id)
    by_rater = {}
    for path in paths:
        r = rater_of(path)
        if r not in assigned:
            raise UserError(f"{path}: rater {r} is not in the study (raters 1..{max(assigned)})")
        if r in by_rater:
            raise UserError(f"two files for rater {r}: {by_rater[r]} and {path}; keep one")
        by_rater[r] = path
    missing = sorted(set(assigned) - set(by_rater))
    if missing:
        raise UserError(f"human.annotations lack the files of rater(s) {missing}: every pair needs all its "
                        "ratings; add them (or leave human.annotations empty)")
    side = dict(zip(key["item_id"], key["model_side"]))
    rows = []
    for r in sorted(by_rater):
        answers = read_rater_file(by_rater[r], assigned[r])
        for item_id in assigned[r]:
            choice = answers[item_id]
            outcome = "equal" if choice == "equal" else "model" if choice == side[item_id] else "reference"
            rows.append({"rater": r, "item_id": item_id, "choice": choice, "outcome": outcome})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------ numbers
def fleiss_kappa(counts) -> float:
    """Fleiss' kappa of an items x categories matrix of rating counts (the same number n >= 2 of ratings per
    item). NaN when every rating falls in one category (chance agreement 1: kappa undefined)."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    if counts.ndim != 2 or len(counts) == 0 or not np.all(n == n[0]) or n[0] < 2:
        raise ValueError("Fleiss' kappa needs at least one item and the same number (>= 2) of ratings per item")
    return float(_kappa(counts[None], n[0])[0])


def _kappa(samples: np.ndarray, n: float) -> np.ndarray:
    """Fleiss' kappa of each of a stack (S x items x categories) of count matrices with n ratings per item."""
    items = samples.shape[1]
    agreement = ((samples ** 2).sum(axis=2) - n) / (n * (n - 1))          # P_i
    p_bar = agreement.mean(axis=1)
    p_j = samples.sum(axis=1) / (items * n)
    p_e = (p_j ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isclose(p_e, 1.0), np.nan, (p_bar - p_e) / (1 - p_e))


def _interval(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def group_summary(counts: np.ndarray, iterations: int, rng: np.random.Generator) -> dict:
    """Shares (percent of ratings) that prefer the model, call the pair equal, or either; Fleiss' kappa; and
    95% percentile intervals from `iterations` bootstrap resamples of the pairs (each with all its ratings).
    counts: pairs x (model, reference, equal)."""
    total = counts.sum()
    share = {"preferred": counts[:, 0].sum() / total, "equal": counts[:, 2].sum() / total}
    share["preferred_or_equal"] = share["preferred"] + share["equal"]
    out = {"pairs": len(counts), "ratings": int(total)}
    idx = rng.integers(0, len(counts), size=(iterations, len(counts))) if iterations else None
    boot = counts[idx] if idx is not None else None                      # iterations x pairs x 3
    for name in SHARES:
        out[name] = 100 * share[name]
        if boot is not None:
            cols = {"preferred": [0], "equal": [2], "preferred_or_equal": [0, 2]}[name]
            values = 100 * boot[:, :, cols].sum(axis=(1, 2)) / boot.sum(axis=(1, 2))
            out[f"{name}_lo"], out[f"{name}_hi"] = _interval(values)
        else:
            out[f"{name}_lo"] = out[f"{name}_hi"] = math.nan
    n = counts.sum(axis=1)
    if np.all(n == n[0]) and n[0] >= 2:
        out["kappa"] = fleiss_kappa(counts)
        out["kappa_lo"], out["kappa_hi"] = _interval(_kappa(boot, n[0])) if boot is not None else (math.nan,) * 2
    else:
        out["kappa"] = out["kappa_lo"] = out["kappa_hi"] = math.nan
    return out


def _groups(key: pd.DataFrame):
    """(group values, domain, key rows) per model x variant x decoding x length, each domain then "all"."""
    for values, part in key.groupby(GROUP, sort=True):
        for domain, sub in part.groupby("domain", sort=True):
            yield values, domain, sub
        yield values, ALL_DOMAINS, part


def preference_table(key: pd.DataFrame, ratings: pd.DataFrame | None, iterations: int, seed: int) -> pd.DataFrame:
    """Per model x variant x decoding x length and domain (plus "all"): pairs, ratings, % preferred, % equal,
    % preferred or equal (the paper's number) with bootstrap 95% intervals, Fleiss' kappa with its interval.
    Without ratings every measured column says "not collected"."""
    columns = [*(c for s in SHARES for c in (s, f"{s}_lo", f"{s}_hi")), "kappa", "kappa_lo", "kappa_hi"]
    rows = []
    if ratings is not None:
        per_item = (ratings.groupby(["item_id", "outcome"]).size().unstack(fill_value=0)
                    .reindex(columns=list(OUTCOMES), fill_value=0))
    for number, (values, domain, part) in enumerate(_groups(key)):
        row = dict(zip(GROUP, values), domain=domain, pairs=len(part))
        if ratings is None:
            row.update(ratings=0, **{c: NOT_COLLECTED for c in columns})
        else:
            counts = per_item.reindex(part["item_id"], fill_value=0).to_numpy()
            row.update(group_summary(counts, iterations, np.random.default_rng([seed, number])))
            for col in ("kappa", "kappa_lo", "kappa_hi"):
                row[col] = UNDEFINED if math.isnan(row[col]) else row[col]
        rows.append(row)
    return pd.DataFrame(rows, columns=[*GROUP, "domain", "pairs", "ratings", *columns])


def table1_columns(preference: pd.DataFrame) -> pd.DataFrame:
    """Table 1's human columns (all domains pooled), keyed by model, variant, decoding and length: the
    `human` argument of hyperfit.tables.table1 (rows it lacks say "not collected" there)."""
    part = preference[preference["domain"] == ALL_DOMAINS]
    return part[[*GROUP, *TABLE1_COLUMNS]].rename(columns=TABLE1_COLUMNS).reset_index(drop=True)


def preference_notes(raters: int, ratings_per_pair: int, iterations: int) -> str:
    return "\n".join([
        "Notes:",
        "",
        "- Each pair is one evaluation context with the model's continuation and the original (human) "
        "continuation cut to the same number of tokens, shown blind as A and B in a recorded random order; "
        f"{ratings_per_pair} of {raters} raters judge each pair: A better, B better, or equal.",
        "- preferred / equal / preferred_or_equal: percent of all ratings of the pairs in the row that prefer "
        "the model's continuation, judge the two equal, or either (the paper's number); domain 'all' pools "
        "every domain's ratings.",
        f"- [low, high] (the .tsv's *_lo, *_hi): 95% percentile interval from {iterations} bootstrap resamples of "
        "the pairs (each pair with all its ratings).",
        "- kappa: Fleiss' kappa over the three outcomes (model, reference, equal) of the pairs in the row; "
        f"'{UNDEFINED}' when all ratings fall in one outcome (chance agreement 1).",
        f"- '{NOT_COLLECTED}': no rater files have been ingested (config human.annotations); the Markdown view then "
        "leaves those columns out.",
        "",
    ])
