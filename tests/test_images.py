"""Figure 6's image branch: pixels <-> tokens (digits grey levels, ImageGPT colour clusters), the subsets,
the sequences, the small ImageGPT, completion and the repetition measures (hand-worked values)."""
import numpy as np
import pytest
from hyperfit.errors import UserError
from hyperfit.images import (DIGIT_COUNT, DIGIT_LEVELS, clusters_from_palette, complete_images,
                             completion_scores, decode, digit_images, digit_palette, draw_disjoint,
                             identical_row_share, load_processor, make_processor, monitor_items,
                             palette_from_clusters, prepare_digits, prompt_rows, quantize, repetition_table,
                             sequence, small_imagegpt, train_image_model)


# ------------------------------------------------------------------------------------------ tokenisation
def test_digits_grey_levels_are_the_tokens_and_round_trip():
    from sklearn.datasets import load_digits

    images, labels = digit_images()
    levels = load_digits().images.astype(int)
    assert images.shape == (DIGIT_COUNT, 8, 8, 3) and images.dtype == np.uint8 and len(labels) == DIGIT_COUNT
    palette = digit_palette()
    assert palette.shape == (DIGIT_LEVELS, 3)
    assert tuple(palette[0]) == (255, 255, 255) and tuple(palette[16]) == (0, 0, 0)  # ink dark on white
    assert tuple(palette[8]) == (128, 128, 128)  # rint(255 * 0.5)
    processor = make_processor(clusters_from_palette(palette), 8, 8)
    ids = quantize(processor, images)
    assert ids == levels.reshape(DIGIT_COUNT, 64).tolist()
    assert all(np.array_equal(decode(i, palette, 8, 8), im) for i, im in zip(ids[:50], images[:50]))


def test_colour_clusters_nearest_cluster_by_hand(tmp_path):
    """ImageGPT's quantisation: RGB -> [-1, 1] -> the nearest cluster (squared Euclidean distance)."""
    from transformers.models.imagegpt.image_processing_pil_imagegpt import ImageGPTImageProcessorPil

    clusters = [[-1, -1, -1], [1, 1, 1], [1, -1, -1]]  # black, white, red
    # (200, 30, 20) -> (0.569, -0.765, -0.843): nearest red. (100, 100, 100) -> -0.216 each:
    # black 3 * 0.784^2 = 1.84, white 3 * 1.216^2 = 4.43, red 1.216^2 + 2 * 0.784^2 = 2.71: black.
    image = np.array([[[200, 30, 20], [100, 100, 100]], [[255, 255, 255], [0, 0, 0]]], dtype=np.uint8)
    # as a hub checkpoint ships it: saved with the model, resizing on (a no-op at the model's own size)
    ImageGPTImageProcessorPil(clusters=clusters, size={"height": 2, "width": 2}).save_pretrained(tmp_path)
    processor = load_processor(str(tmp_path))
    assert quantize(processor, [image]) == [[2, 0, 1, 0]]


def test_colour_clusters_round_trip(tmp_path):
    """512 colour clusters (a synthetic 8x8x8 grid standing in for ImageGPT's): decoding tokens to RGB and
    quantising again gives the same tokens."""
    from transformers.models.imagegpt.image_processing_pil_imagegpt import ImageGPTImageProcessorPil

    axis = np.linspace(-0.875, 0.875, 8)
    clusters = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    ImageGPTImageProcessorPil(clusters=clusters, size={"height": 32, "width": 32}).save_pretrained(tmp_path)
    processor = load_processor(str(tmp_path))
    palette = palette_from_clusters(np.asarray(processor.clusters))
    assert palette.shape == (512, 3) and tuple(palette[0]) == (16, 16, 16)  # rint(127.5 * 0.125)
    ids = np.random.default_rng(0).integers(0, 512, size=(3, 32 * 32)).tolist()
    images = [decode(i, palette, 32, 32) for i in ids]
    assert quantize(processor, images) == ids


def test_processor_without_clusters_is_a_user_error(tmp_path):
    from transformers.models.imagegpt.image_processing_pil_imagegpt import ImageGPTImageProcessorPil

    with pytest.raises(UserError, match="no ImageGPT image processor"):
        load_processor(str(tmp_path))
    ImageGPTImageProcessorPil().save_pretrained(tmp_path)
    with pytest.raises(UserError, match="no colour clusters"):
        load_processor(str(tmp_path))


# ------------------------------------------------------------------------------------------ subsets, sequences
def test_draw_disjoint():
    a, b, rest = draw_disjoint(20, [5, 3, None], seed=1)
    assert (len(a), len(b), len(rest)) == (5, 3, 12)
    assert sorted(a + b + rest) == list(range(20)) and a == sorted(a)
    assert draw_disjoint(20, [5, 3, None], seed=1) == [a, b, rest]
    assert draw_disjoint(20, [5], seed=2)[0] != a
    assert draw_disjoint(20, [5, 3, 4], seed=1)[2] == draw_disjoint(20, [8, 4], seed=1)[1]  # the same draw
    with pytest.raises(UserError, match="pool holds 20"):
        draw_disjoint(20, [15, 6], seed=0)


def test_prompt_rows():
    assert prompt_rows(8, 0.25) == 2 and prompt_rows(32, 0.25) == 8
    assert prompt_rows(8, 0.01) == 1 and prompt_rows(8, 0.99) == 7


def test_sequence_and_monitor_items():
    assert sequence([1, 2, 3, 4], 9) == [9, 1, 2, 3, 4]
    assert sequence([1, 2, 3, 4], 9, n_positions=4) == [9, 1, 2, 3]  # ImageGPT-Large: no room for the last pixel
    data = {"prompt_rows": 1, "width": 2, "sos_id": 9}
    items = monitor_items([{"index": 7, "pixels": [1, 2, 3, 4]}], data, None)
    assert items == [{"domain": "image", "index": 7, "context": [9, 1, 2], "reference": [3, 4]}]
    assert monitor_items([{"index": 7, "pixels": [1, 2, 3, 4]}], data, 4)[0]["reference"] == [3]


def test_prepare_digits_subsets_are_disjoint_and_tokenised():
    spec = {"num_eval": 5, "num_train": 3, "num_pretrain": 10, "prompt_fraction": 0.25}
    data = prepare_digits(spec, seed=0)
    splits = data["splits"]
    assert {k: len(v) for k, v in splits.items()} == {"eval": 5, "train": 3, "pretrain": 10}
    indices = [r["index"] for recs in splits.values() for r in recs]
    assert len(set(indices)) == 18
    assert data["sos_id"] == 17 and data["prompt_rows"] == 2 and (data["height"], data["width"]) == (8, 8)
    assert all(len(r["pixels"]) == 64 and max(r["pixels"]) <= 16 for recs in splits.values() for r in recs)
    assert "stand-in" in data["description"]
    assert prepare_digits(spec, seed=0) == data
    everything = prepare_digits({**spec, "num_pretrain": None}, seed=0)
    assert len(everything["splits"]["pretrain"]) == DIGIT_COUNT - 8


# ------------------------------------------------------------------------------------------ measures
def test_identical_row_share_by_hand():
    # rows [1 1] [1 1] [2 2] [2 2]: from row 1 on, rows 1 and 3 repeat the row above, row 2 does not
    pixels = [1, 1, 1, 1, 2, 2, 2, 2]
    assert identical_row_share(pixels, 2, 1) == pytest.approx(2 / 3)
    assert identical_row_share(pixels, 2, 2) == pytest.approx(1 / 2)  # rows 2 (no) and 3 (yes)
    assert identical_row_share([1, 2, 3, 4, 5, 6], 2, 1) == 0.0
    with pytest.raises(ValueError):
        identical_row_share(pixels, 2, 4)


def test_completion_scores_by_hand():
    # below the 1 prompt row: [1 1] [2 2] [2 2] -> tokens {1, 2} of 6: TTR 1/3; rows 1 (yes), 2 (no), 3 (yes)
    assert completion_scores([1, 1, 1, 1, 2, 2, 2, 2], 2, 1) == {"identical_row_share": pytest.approx(2 / 3),
                                                                  "pixel_ttr": pytest.approx(1 / 3)}


def test_repetition_table_by_hand():
    data = {"width": 2, "height": 3, "prompt_rows": 1, "description": "toy"}
    # image 1: [1 2 | 3 4 | 5 6], image 2: [1 1 | 2 2 | 3 3]; prompt = the first row
    real = [{"pixels": [1, 2, 3, 4, 5, 6], "prompt_pixels": 2}, {"pixels": [1, 1, 2, 2, 3, 3], "prompt_pixels": 2}]
    original = [{**r, "generated": [0, 0, 0, 0]} for r in real]  # [1 2 | 0 0 | 0 0], [1 1 | 0 0 | 0 0]
    hyper = [{**r, "generated": [2, 1, 2, 1]} for r in real]     # [1 2 | 2 1 | 2 1], [1 1 | 2 1 | 2 1]
    table = repetition_table({"original": original, "hyperfitted": hyper}, data, "toy-model").set_index("variant")
    assert list(table.index) == ["original", "hyperfitted", "held-out image"]
    assert (table["images"] == 2).all() and (table["generated_pixels"] == 4).all()
    # original: image 1 rows (0 0 vs 1 2: no), (0 0 vs 0 0: yes) -> 1/2; image 2 the same -> 1/2; TTR 1/4
    assert table.loc["original", "identical_row_share"] == pytest.approx(0.5)
    assert table.loc["original", "pixel_ttr"] == pytest.approx(0.25)
    # hyperfitted: (2 1 vs 1 2 no, 2 1 vs 2 1 yes) 1/2 and (2 1 vs 1 1 no, yes) 1/2; TTR 2/4
    assert table.loc["hyperfitted", "identical_row_share"] == pytest.approx(0.5)
    assert table.loc["hyperfitted", "pixel_ttr"] == pytest.approx(0.5)
    # the images themselves: no repeated rows; TTR 4/4 and 2/4 -> 0.75
    assert table.loc["held-out image", "identical_row_share"] == 0.0
    assert table.loc["held-out image", "pixel_ttr"] == pytest.approx(0.75)
    assert set(table["model"]) == {"toy-model"} and set(table["setting"]) == {"toy"}


# ------------------------------------------------------------------------------------------ model
def test_small_imagegpt_shape_and_no_dropout():
    model = small_imagegpt({"n_embd": 8, "n_layer": 1, "n_head": 2}, DIGIT_LEVELS, 8, 8, seed=0)
    assert model.config.vocab_size == 18 and model.config.n_positions == 65
    assert model.lm_head.out_features == 17  # the start token is never predicted
    assert model.config.resid_pdrop == model.config.embd_pdrop == model.config.attn_pdrop == 0.0
    again = small_imagegpt({"n_embd": 8, "n_layer": 1, "n_head": 2}, DIGIT_LEVELS, 8, 8, seed=0)
    assert all(np.array_equal(a.detach(), b.detach()) for a, b in zip(model.parameters(), again.parameters()))


def test_complete_images_keeps_the_prompt_and_fills_the_rest():
    data = prepare_digits({"num_eval": 3, "num_train": 1, "num_pretrain": 1, "prompt_fraction": 0.25}, seed=0)
    model = small_imagegpt({"n_embd": 8, "n_layer": 1, "n_head": 2}, DIGIT_LEVELS, 8, 8, seed=0)
    rows = complete_images(model, data, batch_size=2)
    assert [r["index"] for r in rows] == [r["index"] for r in data["splits"]["eval"]]
    assert all(r["prompt_pixels"] == 16 and len(r["generated"]) == 48 for r in rows)
    assert all(0 <= t < 17 for r in rows for t in r["generated"])
    assert complete_images(model, data, batch_size=3) == rows  # greedy, independent of the batching


def test_training_refuses_images_of_another_vocabulary(tmp_path):
    data = prepare_digits({"num_eval": 2, "num_train": 2, "num_pretrain": 2, "prompt_fraction": 0.25}, seed=0)
    model = small_imagegpt({"n_embd": 8, "n_layer": 1, "n_head": 2}, 32, 8, 8, seed=0)
    with pytest.raises(UserError, match="tokenised for another model"):
        train_image_model(model, None, data, "train", {"monitor_images": 1}, str(tmp_path / "m"), str(tmp_path / "c"))


def test_training_lowers_the_loss_and_saves_model_and_processor(tmp_path):
    from hyperfit.images import load_image_model

    data = prepare_digits({"num_eval": 2, "num_train": 4, "num_pretrain": 2, "prompt_fraction": 0.25}, seed=0)
    model = small_imagegpt({"n_embd": 16, "n_layer": 1, "n_head": 2}, DIGIT_LEVELS, 8, 8, seed=0)
    settings = dict(epochs=5, batch_size=2, lr=1e-2, weight_decay=0.0, shuffle=True, seed=0, eval_batch_size=4,
                    monitor_images=2, bf16=False, gradient_checkpointing=False, keep_checkpoint=False)
    history = train_image_model(model, make_processor(data["clusters"], 8, 8), data, "train", settings,
                                str(tmp_path / "model"), str(tmp_path / "ckpt"))
    assert [r["epoch"] for r in history] == list(range(6))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert 0 < history[-1]["greedy_ttr"] <= 1
    saved = load_image_model(str(tmp_path / "model"))
    assert type(saved).__name__ == "ImageGPTForCausalImageModeling"
    assert np.allclose(load_processor(str(tmp_path / "model")).clusters, data["clusters"])
