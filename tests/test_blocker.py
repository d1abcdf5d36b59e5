"""The citation blocker against hand-worked indexes and a real (tiny) model."""
import math

import pytest
import torch
from hyperfit.blocker import CitationBlocker, blocked_tokens, ngram_index, starts_word, word_start_ids
from hyperfit.generation import generate_batched
from hyperfit.modeling import load_model, load_tokenizer
from transformers import LogitsProcessorList

TRAIN = [[1, 2, 3, 4, 5, 6], [9, 2, 3, 4, 7]]


def test_ngram_index_hand_worked():
    # n = 3: every 2-token prefix and the tokens that follow it in either sequence
    assert ngram_index(TRAIN, 3) == {(1, 2): (3,), (2, 3): (4,), (3, 4): (5, 7), (4, 5): (6,), (9, 2): (3,)}
    # n = 5: 4-token prefixes
    assert ngram_index(TRAIN, 5) == {(1, 2, 3, 4): (5,), (2, 3, 4, 5): (6,), (9, 2, 3, 4): (7,)}
    # a sequence shorter than n contributes nothing
    assert ngram_index([[1, 2]], 3) == {}
    with pytest.raises(ValueError):
        ngram_index(TRAIN, 1)


def test_ngram_index_word_boundary_keeps_only_blockable_followers():
    # followers 5 and 6 are not word starts: (3, 4) keeps only 7, (4, 5) disappears
    assert ngram_index(TRAIN, 3, blockable={3, 4, 7}) == {(1, 2): (3,), (2, 3): (4,), (3, 4): (7,), (9, 2): (3,)}


def test_blocked_tokens_uses_the_last_n_minus_1_tokens():
    index = ngram_index(TRAIN, 3)
    assert blocked_tokens(index, 3, [8, 8, 3, 4]) == (5, 7)
    assert blocked_tokens(index, 3, [3, 4, 8]) == ()
    assert blocked_tokens(index, 3, [4]) == ()  # fewer than n-1 tokens: nothing to match


def test_processor_blocks_exactly_the_training_completions():
    blocker = CitationBlocker(ngram_index(TRAIN, 3), 3)
    input_ids = torch.tensor([[0, 3, 4], [5, 1, 2], [8, 8, 8]])
    scores = torch.zeros(3, 10)
    scores[0, 7] = 2.0  # row 0: the top token 7 completes (3, 4, 7): blocked, the greedy choice changes
    scores[0, 1] = 1.0  # ... to token 1, the highest-ranked unblocked one
    scores[1, 6] = 1.0  # row 1: top token 6 is free; (1, 2, 3) blocks token 3 only
    scores[2, 2] = 1.0  # row 2: (8, 8) is no training prefix
    out = blocker(input_ids, scores.clone())
    expected = scores.clone()
    expected[0, [5, 7]] = -math.inf
    expected[1, 3] = -math.inf
    assert torch.equal(out, expected)
    assert out.argmax(-1).tolist() == [1, 6, 2]
    assert (blocker.steps, blocker.hits, blocker.changed) == (3, 2, 1)


def test_starts_word_markers():
    for piece in ("\u0120the", "\u010a", "\u0109x", "\u2581the", "<0x0A>", "<0x20>", " x", "\nx"):
        assert starts_word(piece), piece
    for piece in ("the", ",", "\u00e9", "<0x41>", "x\u0120"):
        assert not starts_word(piece), piece


def test_word_start_ids_on_a_byte_level_tokenizer(tiny_model_dir):
    tok = load_tokenizer(str(tiny_model_dir))
    starts = word_start_ids(tok)
    ids = tok("the police said").input_ids
    pieces = tok.convert_ids_to_tokens(ids)
    assert [i in starts for i in ids] == [p.startswith("\u0120") for p in pieces]
    assert ids[0] not in starts and ids[-1] in starts  # "the" opens the text without a space; " said" does
    assert tok.eos_token_id not in starts


def test_word_start_ids_on_a_sentencepiece_style_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<eos>": 0, "\u2581the": 1, "the": 2, "\u2581ca": 3, "t": 4, "<0x0A>": 5, ".": 6}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="<eos>"))
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>")
    assert word_start_ids(tok) == {1, 3, 5}


def reference_blocked_greedy(model, context, new_tokens, index, n):
    """Greedy decoding one token at a time with full forward passes (no cache, no batch, no padding)."""
    ids = list(context)
    for _ in range(new_tokens):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1].clone()
        logits[model.config.eos_token_id] = -math.inf
        for t in blocked_tokens(index, n, ids):
            logits[t] = -math.inf
        ids.append(int(logits.argmax()))
    return ids[len(context):]


def ngrams(seq, n):
    return {tuple(seq[i:i + n]) for i in range(len(seq) - n + 1)}


@pytest.mark.parametrize("n", [2, 3])
def test_blocked_generation_with_a_real_model(tiny_model_dir, n):
    model = load_model(str(tiny_model_dir))
    contexts = [[5, 17, 40, 3, 99, 12], [8, 8, 21, 300], [44, 2, 7, 150, 61, 19, 20], [100, 101]]
    plain = generate_batched(model, contexts, 12, pad_id=0, batch_size=4)
    # The "training data": the model's own greedy continuations, so plain greedy decoding cites it at once.
    train = [c + g for c, g in zip(contexts, plain)]
    index = ngram_index(train, n)
    blocker = CitationBlocker(index, n)
    blocked = generate_batched(model, contexts, 12, pad_id=0, batch_size=4,
                               logits_processor=LogitsProcessorList([blocker]))
    train_ngrams = set().union(*(ngrams(s, n) for s in train))
    for c, g in zip(contexts, blocked):
        full = c + g
        # no n-gram that ends in a generated token is a training n-gram
        assert not any(tuple(full[i - n + 1:i + 1]) in train_ngrams for i in range(len(c), len(full)))
    assert blocked != plain and blocker.changed > 0 and blocker.hits >= blocker.changed
    # Batching, left padding and the KV cache give what one-token-at-a-time decoding gives.
    for c, g in zip(contexts, blocked):
        assert g == reference_blocked_greedy(model, c, 12, index, n)
