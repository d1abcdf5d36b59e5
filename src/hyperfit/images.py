"""Hyperfitting an autoregressive image model (the paper's Figure 6): images as token sequences, the
small ImageGPT of the offline stand-in, completion from the top of an image, and what the figure shows.

An image of H x W pixels becomes H*W tokens, row by row: ImageGPT's image processor maps every pixel to
the nearest of its colour clusters (512 for openai/imagegpt-*). A sequence is ImageGPT's start-of-sequence
token (id = number of clusters, the last id of the vocabulary) followed by the pixel tokens; the model
never predicts that token (its output layer has one class fewer than its vocabulary).

The offline default is a small-scale stand-in for the paper's ImageGPT-Large on CIFAR-10: scikit-learn's
8x8 handwritten digits, whose 17 grey levels are 17 grey "clusters" of the same processor, and a small
ImageGPT pretrained on part of them in this workflow.

Training reuses the text branch's loop (hyperfit.training.hyperfit: Adam, constant learning rate, all
dropout 0, per-epoch monitoring and resume) with pixel sequences as its windows.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from .errors import UserError
from .metrics import ttr

if TYPE_CHECKING:
    import pandas as pd

DIGIT_LEVELS = 17  # sklearn's digits: integer grey levels 0 (background) .. 16 (full ink)
DIGIT_COUNT = 1797  # images in sklearn's load_digits() (checked by the tests)
STANDIN = ("small-scale stand-in: a small ImageGPT pretrained on 8x8 scikit-learn digits "
           "(the paper: ImageGPT-Large on CIFAR-10)")


# ------------------------------------------------------------------------------------------ pixels <-> tokens
def digit_palette() -> np.ndarray:
    """(17, 3) uint8 RGB colour of each digits grey level, drawn as ink on paper: 0 white, 16 black."""
    grey = np.rint(255 * (1 - np.arange(DIGIT_LEVELS) / (DIGIT_LEVELS - 1)))
    return np.repeat(grey[:, None], 3, axis=1).astype(np.uint8)


def clusters_from_palette(palette: np.ndarray) -> np.ndarray:
    """ImageGPT's clusters live where its processor puts pixels: RGB scaled to [-1, 1]."""
    return np.asarray(palette, dtype=np.float64) / 127.5 - 1.0


def palette_from_clusters(clusters: np.ndarray) -> np.ndarray:
    """The RGB colour of each cluster (uint8), the inverse of clusters_from_palette up to rounding."""
    return np.clip(np.rint(127.5 * (np.asarray(clusters, dtype=np.float64) + 1.0)), 0, 255).astype(np.uint8)


def make_processor(clusters: np.ndarray, height: int, width: int):
    """ImageGPT's image processor with the given clusters, for images that already have the model's size."""
    from transformers.models.imagegpt.image_processing_pil_imagegpt import ImageGPTImageProcessorPil

    return ImageGPTImageProcessorPil(clusters=np.asarray(clusters, dtype=np.float32),
                                     size={"height": height, "width": width}, do_resize=False)


def load_processor(model_dir: str):
    """The image processor saved with a pretrained ImageGPT (its preprocessor_config.json holds the clusters)."""
    from transformers.models.imagegpt.image_processing_pil_imagegpt import ImageGPTImageProcessorPil

    try:
        processor = ImageGPTImageProcessorPil.from_pretrained(model_dir)
    except OSError as exc:
        raise UserError(f"{model_dir} has no ImageGPT image processor (preprocessor_config.json): "
                        f"point image.model at an ImageGPT checkpoint ({exc})") from None
    if processor.clusters is None:
        raise UserError(f"the image processor in {model_dir} has no colour clusters: use an ImageGPT checkpoint")
    return processor


def quantize(processor, images: Sequence[np.ndarray]) -> list[list[int]]:
    """Token ids of each image (H x W x 3 uint8), row-major: the processor's nearest-cluster quantisation."""
    if not len(images):
        return []
    ids = processor([np.asarray(im, dtype=np.uint8) for im in images], return_tensors=None)["input_ids"]
    return [np.asarray(row).astype(int).ravel().tolist() for row in ids]


def decode(ids: Sequence[int], palette: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 image of a token sequence (pixels only, no start token)."""
    return np.asarray(palette, dtype=np.uint8)[np.asarray(ids, dtype=int)].reshape(height, width, 3)


# ------------------------------------------------------------------------------------------ the images
def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits as (N, 8, 8, 3) uint8 RGB (ink dark) and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digit_palette()[digits.images.astype(int)], digits.target.astype(int)


def hub_images(spec: dict, split: str, indices: Sequence[int] | None = None):
    """Images (H, W, 3 uint8) and labels of a hub dataset split (all, or those at `indices`); the split's size
    when `indices` is None and nothing is read."""
    import datasets

    try:
        ds = datasets.load_dataset(spec["id"], spec.get("config"), split=split,
                                   revision=spec.get("commit") or spec.get("revision"))
    except Exception as exc:  # offline, no cache, unknown id: all the same fix
        raise UserError(f"image dataset {spec['id']!r} is not available here ({type(exc).__name__}): pre-download it "
                        f"where the hub is reachable (datasets.load_dataset('{spec['id']}') with the HF_HOME used "
                        "here)") from None
    if indices is None:
        return len(ds)
    part = ds.select(list(indices))
    images = [np.asarray(rec[spec["image_field"]].convert("RGB"), dtype=np.uint8) for rec in part]
    labels = [int(rec[spec["label_field"]]) if spec.get("label_field") in rec else -1 for rec in part]
    return images, labels


def draw_disjoint(n: int, counts: Sequence[int | None], seed: int) -> list[list[int]]:
    """Disjoint random subsets of range(n) of the given sizes (None: all that is left), each sorted."""
    fixed = sum(c for c in counts if c is not None)
    if fixed > n:
        raise UserError(f"{fixed} images requested ({list(counts)}) but the pool holds {n}: lower image.num_train, "
                        "image.num_eval or image.num_pretrain")
    perm = np.random.default_rng(seed).permutation(n)
    out, start = [], 0
    for c in counts:
        stop = n if c is None else start + c
        out.append(sorted(int(i) for i in perm[start:stop]))
        start = stop
    return out


def prompt_rows(height: int, fraction: float) -> int:
    """Rows given as the prompt: the top `fraction` of the image, rounded, at least one, never all."""
    return min(max(1, round(height * fraction)), height - 1)


def image_records(indices: Sequence[int], labels: Sequence[int], pixels: Sequence[list[int]]) -> list[dict]:
    return [{"index": int(i), "label": int(y), "pixels": list(p)} for i, y, p in zip(indices, labels, pixels)]


def prepare_digits(spec: dict, seed: int) -> dict:
    """The stand-in's data: held-out, hyperfitting and pretraining digits (disjoint), tokenised."""
    images, labels = digit_images()
    height, width = images.shape[1:3]
    clusters = clusters_from_palette(digit_palette())
    processor = make_processor(clusters, height, width)
    eval_idx, train_idx, pre_idx = draw_disjoint(len(images), [spec["num_eval"], spec["num_train"],
                                                               spec["num_pretrain"]], seed)
    splits = {name: image_records(idx, labels[idx], quantize(processor, images[idx]))
              for name, idx in (("eval", eval_idx), ("train", train_idx), ("pretrain", pre_idx))}
    return image_data(splits, clusters, height, width, spec["prompt_fraction"], STANDIN)


def prepare_hub(spec: dict, seed: int, model_dir: str) -> dict:
    """The paper's data: random training images to hyperfit on and held-out images, through the model's
    own processor (its colour clusters)."""
    processor = load_processor(model_dir)
    data = spec["dataset"]
    same = data["train_split"] == data["eval_split"]
    if same:
        eval_idx, train_idx = draw_disjoint(hub_images(data, data["train_split"]), [spec["num_eval"], spec["num_train"]],
                                            seed)
    else:
        (train_idx,) = draw_disjoint(hub_images(data, data["train_split"]), [spec["num_train"]], seed)
        (eval_idx,) = draw_disjoint(hub_images(data, data["eval_split"]), [spec["num_eval"]], seed + 1)
    splits = {}
    for name, split, idx in (("eval", data["eval_split"], eval_idx), ("train", data["train_split"], train_idx)):
        images, labels = hub_images(data, split, idx)
        splits[name] = image_records(idx, labels, quantize(processor, images))
    height, width = processor.size["height"], processor.size["width"]
    return image_data(splits, np.asarray(processor.clusters), height, width, spec["prompt_fraction"],
                      f"{spec['model']['id']} on {data['id']}")


def image_data(splits: dict, clusters: np.ndarray, height: int, width: int, fraction: float,
               description: str) -> dict:
    for name, records in splits.items():
        bad = [r["index"] for r in records if len(r["pixels"]) != height * width]
        if bad:
            raise UserError(f"{name} images {bad[:3]} do not have {height}x{width} pixels after the processor")
    return {"description": description, "height": height, "width": width,
            "prompt_rows": prompt_rows(height, fraction), "sos_id": len(clusters),
            "clusters": np.asarray(clusters, dtype=float).tolist(),
            "palette": palette_from_clusters(clusters).tolist(), "splits": splits}


# ------------------------------------------------------------------------------------------ the model
def small_imagegpt(architecture: dict, n_clusters: int, height: int, width: int, seed: int):
    """A freshly initialised ImageGPT (seeded) whose positions hold the start token and every pixel."""
    import torch
    from transformers import ImageGPTConfig, ImageGPTForCausalImageModeling

    config = ImageGPTConfig(vocab_size=n_clusters + 1, n_positions=1 + height * width,
                            n_embd=architecture["n_embd"], n_layer=architecture["n_layer"],
                            n_head=architecture["n_head"], resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(seed)
    return ImageGPTForCausalImageModeling(config)


def load_image_model(path: str, dtype: str = "float32", for_training: bool = False):
    from transformers import ImageGPTForCausalImageModeling

    from .modeling import load_model

    return load_model(path, dtype, for_training=for_training, model_class=ImageGPTForCausalImageModeling)


def sequence(pixels: Sequence[int], sos_id: int, n_positions: int | None = None) -> list[int]:
    """Start token + pixel tokens, cut to the model's position table (ImageGPT-Large holds 1,024 positions,
    so its windows end one pixel early: the last pixel of a 32x32 image is predicted only in generation)."""
    seq = [sos_id, *pixels]
    return seq[:n_positions] if n_positions else seq


def monitor_items(records: list[dict], data: dict, n_positions: int | None) -> list[dict]:
    """Held-out images as the training loop's monitoring items: context = start token + prompt rows,
    reference = the rest of the sequence."""
    k = 1 + data["prompt_rows"] * data["width"]
    items = []
    for r in records:
        seq = sequence(r["pixels"], data["sos_id"], n_positions)
        items.append({"domain": "image", "index": r["index"], "context": seq[:k], "reference": seq[k:]})
    return items


def generated_pixels(data: dict) -> int:
    return (data["height"] - data["prompt_rows"]) * data["width"]


def train_image_model(model, processor, data: dict, split: str, settings: dict, out_dir: str, ckpt_dir: str,
                      progress_factory=None) -> list[dict]:
    """Train on the `split` images with the text branch's loop; write model + processor to out_dir; return
    the per-epoch history (loss on the training images, loss and greedy pixel TTR on held-out images)."""
    from .training import hyperfit

    n_positions = model.config.n_positions
    if model.config.vocab_size != data["sos_id"] + 1:
        raise UserError(f"the model's vocabulary ({model.config.vocab_size}) is not the {data['sos_id']} colour "
                        "clusters + the start token: the images were tokenised for another model")
    windows = [sequence(r["pixels"], data["sos_id"], n_positions) for r in data["splits"][split]]
    items = monitor_items(data["splits"]["eval"][:settings["monitor_images"]], data, n_positions)
    n_gen = generated_pixels(data)
    settings = {**settings, "monitor_new_tokens": n_gen, "ttr_window": n_gen}
    return hyperfit(model, processor, windows, items, settings, out_dir, ckpt_dir, pad_id=data["sos_id"],
                    progress_factory=progress_factory)


def complete_images(model, data: dict, batch_size: int, progress=None) -> list[dict]:
    """Greedy completion of every held-out image from its prompt rows (the model's own prediction for every
    remaining pixel, conditioned on what it generated so far)."""
    from .generation import generate_batched

    k = data["prompt_rows"] * data["width"]
    records = data["splits"]["eval"]
    contexts = [[data["sos_id"], *r["pixels"][:k]] for r in records]
    generated = generate_batched(model, contexts, generated_pixels(data), data["sos_id"], batch_size=batch_size,
                                 progress=progress)
    return [{"index": r["index"], "label": r["label"], "prompt_pixels": k, "pixels": r["pixels"], "generated": g}
            for r, g in zip(records, generated)]


# ------------------------------------------------------------------------------------------ what Figure 6 shows
def identical_row_share(pixels: Sequence[int], width: int, first_row: int) -> float:
    """Share of the rows from `first_row` on that repeat the row above them exactly (stripes)."""
    rows = [tuple(pixels[i:i + width]) for i in range(0, len(pixels), width)]
    if first_row < 1 or first_row >= len(rows):
        raise ValueError(f"first_row must be in 1..{len(rows) - 1}, got {first_row}")
    return sum(rows[r] == rows[r - 1] for r in range(first_row, len(rows))) / (len(rows) - first_row)


def completion_scores(pixels: Sequence[int], width: int, prompt_rows: int) -> dict:
    """Identical-row share and pixel TTR of the part of an image below its prompt rows."""
    return {"identical_row_share": identical_row_share(pixels, width, prompt_rows),
            "pixel_ttr": ttr(pixels[prompt_rows * width:])}


def repetition_table(completions: dict[str, list[dict]], data: dict, model: str) -> "pd.DataFrame":
    """Per variant (and the held-out images themselves): identical-row share and pixel TTR of the completed
    part, means over images."""
    import pandas as pd

    width, rows = data["width"], data["prompt_rows"]
    first = next(iter(completions.values()))
    sets = {variant: [r["pixels"][:r["prompt_pixels"]] + r["generated"] for r in recs]
            for variant, recs in completions.items()}
    sets["held-out image"] = [r["pixels"] for r in first]
    out = []
    for variant, images in sets.items():
        scores = pd.DataFrame([completion_scores(p, width, rows) for p in images])
        out.append({"model": model, "variant": variant, "images": len(images),
                    "generated_pixels": generated_pixels(data), "identical_row_share": scores["identical_row_share"].mean(),
                    "pixel_ttr": scores["pixel_ttr"].mean(), "setting": data["description"]})
    return pd.DataFrame(out)
