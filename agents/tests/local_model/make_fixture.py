#!/usr/bin/env python3
"""Writes the tiny BERT fixtures of tests/local_embed.rs and their expected outputs.

    python3 agents/tests/local_model/make_fixture.py     (needs numpy only)

Two models with random weights from a fixed seed:
- tiny/      F32 weights named with a `bert.` prefix, exact (erf) GELU, mean pooling;
- tiny-f16/  F16 weights (token-type embeddings in BF16), no prefix, the embeddings'
             LayerNorm as gamma/beta, tanh GELU (`gelu_new`), CLS pooling.

The safetensors files are written by hand, and an independent numpy implementation of the
BERT tokenizer, the forward pass, pooling and L2 normalisation writes each model's
expected.json: token ids and embeddings for a set of sentences.
"""

import json
import math
import os
import struct
import unicodedata

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[]_{}~") + ["\u00bf"]
DIGITS = [str(d) for d in range(10)]
LETTERS = [c for c in "abcdefghijklmnoprstuvw"]  # no q, x, y, z: "xylophone" is unknown
WORDS = ["the", "customer", "address", "order", "revenue", "table", "email", "data", "cafe",
         "resume", "naive", "sales", "region", "set", "id", "name", "date", "total", "amount",
         "of", "and", "in", "for", "is"]
PIECES = ["##s", "##er", "##ing", "##ed", "##ly", "##es", "##tion", "##able"]
VOCAB = (SPECIALS + PUNCT + DIGITS + LETTERS + ["##" + c for c in LETTERS] + WORDS + PIECES
         + ["##" + d for d in DIGITS] + ["\u6570"])

HIDDEN, LAYERS, HEADS, INTER, MAX_POS, TYPES = 32, 2, 4, 64, 64, 2

SENTENCES = [
    "Customer address",
    "Caf\u00e9 r\u00e9sum\u00e9: na\u00efve!",
    "The customers' orders (2024) are totaled",
    "xylophone revenue",
    "",
    "   \n\t ",
    "\u6570\u636e table\tEMAIL\u0000 ad\u200bdress\ufffd cust_addr",
    "reordering unaffable sets",
    "a" * 101 + " ok",
    " ".join(["sales region total amount of the order"] * 12),
]


# --- tokenizer ---------------------------------------------------------------------------

def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def is_punct(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text, lower):
    out = []
    for c in text:
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or is_control(c):
            continue
        if is_whitespace(c):
            out.append(" ")
        elif is_cjk(cp):
            out.append(" " + c + " ")
        else:
            out.append(c)
    words = []
    for w in "".join(out).split():
        if lower:
            w = w.lower()
            w = "".join(c for c in unicodedata.normalize("NFD", w)
                        if unicodedata.category(c) != "Mn")
        cur = ""
        for c in w:
            if is_punct(c):
                if cur:
                    words.append(cur)
                words.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def encode(text, vocab, max_tokens, lower=True):
    tokens = []
    for w in basic_tokenize(text, lower):
        tokens.extend(wordpiece(w, vocab))
    tokens = tokens[: max_tokens - 2]
    return [vocab["[CLS]"]] + [vocab[t] for t in tokens] + [vocab["[SEP]"]]


# --- model -------------------------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x, act):
    if act == "gelu":
        return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(ids, p, cfg, pooling):
    n = len(ids)
    eps = cfg["layer_norm_eps"]
    x = p["emb.word"][ids] + p["emb.pos"][:n] + p["emb.type"][0]
    x = layer_norm(x, p["emb.ln.w"], p["emb.ln.b"], eps)
    heads = cfg["num_attention_heads"]
    dh = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        def L(name, v):
            return v @ p[f"{i}.{name}.w"].T + p[f"{i}.{name}.b"]

        q, k, v = L("q", x), L("k", x), L("v", x)
        ctx = np.zeros_like(x)
        for h in range(heads):
            s = slice(h * dh, (h + 1) * dh)
            scores = q[:, s] @ k[:, s].T / math.sqrt(dh)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx[:, s] = scores @ v[:, s]
        attn = L("ao", ctx)
        x = layer_norm(x + attn, p[f"{i}.ao_ln.w"], p[f"{i}.ao_ln.b"], eps)
        inter = gelu(L("i", x), cfg["hidden_act"])
        out = L("o", inter)
        x = layer_norm(x + out, p[f"{i}.o_ln.w"], p[f"{i}.o_ln.b"], eps)
    v = x[0] if pooling == "cls" else x.mean(0)
    return v / np.linalg.norm(v)


# --- writing -----------------------------------------------------------------------------

def tensor_names(prefix, ln_old):
    """Our short names -> checkpoint names."""
    g, b = ("gamma", "beta") if ln_old else ("weight", "bias")
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": f"embeddings.LayerNorm.{g}",
        "emb.ln.b": f"embeddings.LayerNorm.{b}",
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key",
             "v": "attention.self.value", "ao": "attention.output.dense",
             "ao_ln": "attention.output.LayerNorm", "i": "intermediate.dense",
             "o": "output.dense", "o_ln": "output.LayerNorm"}
    for i in range(LAYERS):
        for short, long in parts.items():
            names[f"{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            names[f"{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    return {k: prefix + v for k, v in names.items()}


def random_params(rng):
    p = {
        "emb.word": rng.normal(0, 0.5, (len(VOCAB), HIDDEN)),
        "emb.pos": rng.normal(0, 0.2, (MAX_POS, HIDDEN)),
        "emb.type": rng.normal(0, 0.2, (TYPES, HIDDEN)),
        "emb.ln.w": 1 + rng.normal(0, 0.1, HIDDEN),
        "emb.ln.b": rng.normal(0, 0.05, HIDDEN),
    }
    shapes = {"q": (HIDDEN, HIDDEN), "k": (HIDDEN, HIDDEN), "v": (HIDDEN, HIDDEN),
              "ao": (HIDDEN, HIDDEN), "i": (INTER, HIDDEN), "o": (HIDDEN, INTER)}
    for i in range(LAYERS):
        for name, shape in shapes.items():
            p[f"{i}.{name}.w"] = rng.normal(0, 0.25, shape)
            p[f"{i}.{name}.b"] = rng.normal(0, 0.05, shape[0])
        for name in ("ao_ln", "o_ln"):
            p[f"{i}.{name}.w"] = 1 + rng.normal(0, 0.1, HIDDEN)
            p[f"{i}.{name}.b"] = rng.normal(0, 0.05, HIDDEN)
    return {k: v.astype(np.float32) for k, v in p.items()}


def encode_tensor(a, dtype):
    """Returns (raw little-endian bytes, the values as the loader will see them)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.astype("<f4").tobytes(), a.astype(np.float64)
    if dtype == "F16":
        h = a.astype("<f2")
        return h.tobytes(), h.astype(np.float64)
    if dtype == "BF16":
        bits = a.view(np.uint32) >> 16  # truncation: the decoded value is what counts
        stored = bits.astype("<u2")
        return stored.tobytes(), (stored.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, offset = {}, 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, _, raw in tensors:
            f.write(raw)


def make(dirname, seed, prefix, ln_old, act, pooling, dtype_of):
    d = os.path.join(HERE, dirname)
    os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
    rng = np.random.default_rng(seed)
    params = random_params(rng)
    names = tensor_names(prefix, ln_old)
    tensors, seen = [], {}
    for short, value in params.items():
        dtype = dtype_of(short)
        raw, decoded = encode_tensor(value, dtype)
        tensors.append((names[short], dtype, value.shape, raw))
        seen[short] = decoded
    # A pooler the loader must ignore.
    raw, _ = encode_tensor(rng.normal(0, 0.1, (HIDDEN, HIDDEN)), dtype_of("pooler"))
    tensors.append((prefix + "pooler.dense.weight", dtype_of("pooler"), (HIDDEN, HIDDEN), raw))
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)

    cfg = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": HIDDEN,
           "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
           "intermediate_size": INTER, "max_position_embeddings": MAX_POS,
           "type_vocab_size": TYPES, "vocab_size": len(VOCAB), "hidden_act": act,
           "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "pad_token_id": 0}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 512}, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": HIDDEN,
                   "pooling_mode_cls_token": pooling == "cls",
                   "pooling_mode_mean_tokens": pooling == "mean",
                   "pooling_mode_max_tokens": False}, f, indent=2)
        f.write("\n")

    vocab = {t: i for i, t in enumerate(VOCAB)}
    max_tokens = MAX_POS  # the default of 256, capped by max_position_embeddings
    cases = []
    for s in SENTENCES:
        ids = encode(s, vocab, max_tokens)
        cases.append({"text": s, "ids": ids,
                      "embedding": [float(x) for x in forward(ids, seen, cfg, pooling)]})
    with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"max_tokens": max_tokens, "pooling": pooling, "cases": cases}, f, indent=1)
        f.write("\n")


def main():
    make("tiny", 20240611, "bert.", False, "gelu", "mean", lambda short: "F32")
    make("tiny-f16", 20240612, "", True, "gelu_new", "cls",
         lambda short: "BF16" if short == "emb.type" else "F16")


if __name__ == "__main__":
    main()
