#!/usr/bin/env python3
"""Golden token ids and sentence embeddings for the BERT encoder tests.

An independent numpy implementation of a BERT encoder with mean pooling and L2 normalization (float64
throughout), reading model.safetensors with its own parser and tokenizing with the HF `tokenizers`
package. Writes golden.json next to this script.

    python3 make_golden.py [MODEL_DIR]   # default: $PLINTH_MODELS_DIR or ~/.cache/plinth/models,
                                         # then all-MiniLM-L6-v2
Needs: numpy, tokenizers.
"""
import json
import math
import os
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent

SENTENCES = [
    "Hello world.",
    "A",
    "The quick brown fox jumps over the lazy dog.",
    "Plinth runs BERT-style encoders on any device through a small catalogue of ops.",
    "What's the weather like in São Paulo today?!",
    "Ünïcödé têxt wïth diacritics, naïve café résumé.",
    "東京は日本の首都です。",
    "Emoji are tokens too 🙂🚀 — sometimes unknown ones.",
    "   leading and trailing whitespace   ",
    "Numbers: 3.14159, 2,718 and 1e-12; dates like 2024-05-17.",
    "(parentheses) [brackets] {braces} <angles> \"quotes\" 'apostrophes' -- dashes...",
    "Machine learning models map sentences to vectors so that similar meanings lie close together.",
    "A cat sat on the mat.",
    "The cat is sitting on the mat.",
    # ~128 tokens
    ("Retrieval-augmented generation combines a search step with a language model: the question is "
     "embedded, the nearest chunks of the document collection are fetched from a vector index and a "
     "keyword index, the two rankings are fused, and the best passages are handed to the decoder, which "
     "writes an answer with numbered citations. Each stage can run on a different device, and the "
     "encoder that turns text into vectors must give the same result whether it runs on a laptop CPU, "
     "a workstation GPU or a datacenter accelerator, because otherwise the stored vectors and the "
     "query vectors would no longer be comparable and retrieval quality would silently degrade."),
    ("In 1905, Albert Einstein published four papers that changed physics: on the photoelectric "
     "effect, Brownian motion, special relativity, and mass-energy equivalence (E = mc^2). Together "
     "they are known as the annus mirabilis papers, and more than a century later students still "
     "learn them in their first years at university, often without realising how young he was."),
]


def read_safetensors(path):
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in ("F32", "F16", "F64", "BF16"):
            continue  # e.g. the I64 position_ids buffer, which the encoder does not need
        begin, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            raw = np.frombuffer(data[base + begin:base + end], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[base + begin:base + end], dtype=dtypes[info["dtype"]])
        tensors[name] = arr.reshape(info["shape"]).astype(np.float64)
    return tensors


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def encode(w, cfg, ids):
    p = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    dh = H // nh
    eps = cfg.get("layer_norm_eps", 1e-12)
    S = len(ids)
    x = (w[p + "embeddings.word_embeddings.weight"][ids]
         + w[p + "embeddings.position_embeddings.weight"][:S]
         + w[p + "embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        l = f"{p}encoder.layer.{i}."

        def lin(t, name):
            return t @ w[l + name + ".weight"].T + w[l + name + ".bias"]

        q = lin(x, "attention.self.query").reshape(S, nh, dh).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(S, nh, dh).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(S, nh, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = (s @ v).transpose(1, 0, 2).reshape(S, H)
        a = lin(o, "attention.output.dense")
        x = layer_norm(a + x, w[l + "attention.output.LayerNorm.weight"],
                       w[l + "attention.output.LayerNorm.bias"], eps)
        f = lin(gelu(lin(x, "intermediate.dense")), "output.dense")
        x = layer_norm(f + x, w[l + "output.LayerNorm.weight"], w[l + "output.LayerNorm.bias"], eps)
    pooled = x.mean(0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


def main():
    if len(sys.argv) > 1:
        model_dir = Path(sys.argv[1])
    else:
        cache = os.environ.get("PLINTH_MODELS_DIR") or str(Path.home() / ".cache/plinth/models")
        model_dir = Path(cache) / "all-MiniLM-L6-v2"
    cfg = json.loads((model_dir / "config.json").read_text())
    weights = read_safetensors(model_dir / "model.safetensors")
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    cases = []
    for text in SENTENCES:
        ids = tok.encode(text).ids
        emb = encode(weights, cfg, ids)
        cases.append({"text": text, "ids": ids, "embedding": [float(f"{v:.7g}") for v in emb]})
        print(f"{len(ids):4d} tokens  {text[:60]!r}")
    out = {
        "model": "all-MiniLM-L6-v2",
        "note": "float64 numpy BERT, mean pooling over all tokens, L2 normalized; see make_golden.py",
        "hidden_size": cfg["hidden_size"],
        "cases": cases,
    }
    (HERE / "golden.json").write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {HERE / 'golden.json'}")


if __name__ == "__main__":
    main()
