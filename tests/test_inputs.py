"""Bad inputs found at job time: corrupted or re-pinned assets, empty, binary and undecodable corpus files. Each
stops with one line naming the file and the key to fix, and leaves no finished output behind."""
from __future__ import annotations

import hashlib

import pytest
from hyperfit.assets import load_corpus_documents, verify_asset
from hyperfit.errors import UserError
from test_workflow import snakemake, write_config


def corpus(paths, **spec):
    return load_corpus_documents({"reader": "text_files", "paths": [str(p) for p in paths], **spec}, key="corpora.f")


def test_text_files_become_documents(tmp_path):
    (tmp_path / "a.txt").write_text("Once upon a time.")
    (tmp_path / "b.jsonl").write_text('{"text": "First story."}\n\n{"text": "Second story."}\n')
    docs = corpus([tmp_path / "a.txt", tmp_path / "b.jsonl"])
    assert [(d["id"], d["text"], d["role"]) for d in docs] == [
        ("a.txt", "Once upon a time.", "both"), ("b.jsonl:0", "First story.", "both"),
        ("b.jsonl:2", "Second story.", "both")]
    held = load_corpus_documents({"reader": "text_files", "paths": [str(tmp_path / "a.txt")],
                                  "eval_paths": [str(tmp_path / "b.jsonl")]}, key="corpora.f")
    assert [d["role"] for d in held] == ["train", "eval", "eval"]


@pytest.mark.parametrize("content, message", [
    (b"", "corpora.f.paths: {p} is empty: remove it or fill it"),
    (b"   \n\n", "corpora.f.paths: {p} is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "corpora.f.paths: {p} is a binary file (it holds NUL bytes)"),
    ("caf\u00e9 na\u00efve".encode("latin-1"), "corpora.f.encoding: {p} is not utf-8 text (byte 3 cannot be decoded): "
                                                "set corpora.f.encoding"),
])
def test_a_bad_text_file_names_itself_and_the_key(tmp_path, content, message):
    p = tmp_path / "story.txt"
    p.write_bytes(content)
    with pytest.raises(UserError) as info:
        corpus([p])
    assert message.format(p=p) in str(info.value) and "\n" not in str(info.value)


def test_a_bad_jsonl_line_names_its_file_line_and_field(tmp_path):
    p = tmp_path / "stories.jsonl"
    p.write_text('{"text": "ok"}\n{"body": "no text field"}\n')
    with pytest.raises(UserError, match=rf"corpora.f.paths: {p}, line 2 is not a JSON object with a 'text' text"):
        corpus([p])
    with pytest.raises(UserError, match="corpora.f.paths: .* does not exist"):
        corpus([tmp_path / "missing.txt"])


def test_a_cached_asset_is_checked_against_its_pin_before_use(tmp_path):
    p = tmp_path / "brotli.pkg"
    p.write_bytes(b"an sdist")
    pin = hashlib.sha256(b"an sdist").hexdigest()
    verify_asset(p, "brotli", pin)
    data = bytearray(p.read_bytes())
    data[3] ^= 1  # one flipped bit
    p.write_bytes(bytes(data))
    with pytest.raises(UserError, match=rf"assets.brotli.sha256: {p} has sha256 [0-9a-f]{{64}}, the pin is {pin}: "
                                        rf"delete {p} to download it again, or correct the pin"):
        verify_asset(p, "brotli", pin)


def test_a_corrupted_cached_asset_stops_the_corpus_job_and_writes_nothing(tmp_path):
    """A byte flipped in the cached sdist that holds the fiction corpus (or a pin changed after the download)."""
    work = tmp_path / "work"
    (work / "resources/pypi").mkdir(parents=True)
    (work / "resources/pypi/brotli.pkg").write_bytes(b"not the pinned sdist")
    res = snakemake("--cores", "1", "resources/corpora/fiction.jsonl", "--configfile",
                    str(write_config(tmp_path, {})), "--directory", str(work))
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "ERROR in rule get_corpus: assets.brotli.sha256: resources/pypi/brotli.pkg has sha256" in out
    assert not (work / "resources/corpora/fiction.jsonl").exists()
