#!/usr/bin/env python3
"""Golden data for the decoder tests, from two oracles on the default model (SmolLM2-135M-Instruct Q4_1):

1. llama.cpp (llama-cpp-python, n_threads=2): the prompt's token ids (llama.cpp's tokenizer, so the C++
   test needs none), 32 greedy steps and the full logits of a few steps.
2. The "exact" reference: llama.cpp again, on a copy of the model with every weight dequantized to
   F32 (written to a temporary file), run on the prompt + the greedy tokens of 1. With F32 weights
   llama.cpp multiplies in f32; with quantized weights it first quantizes the activations to 8 bits,
   which moves its logits by an NMSE of about 1e-3..1e-2 on this model. The exact logits are what a
   correct f32 implementation over the dequantized weights must reproduce (a float64 numpy version of
   the graph agreed with them to an NMSE of 3e-12).

A prompt is kept only when both oracles pick the same token at all 32 steps (where llama.cpp's own
rounding flips a near-tie, no exact implementation can follow it) and the exact logits have no
near-tie (MIN_EXACT_MARGIN). Rejected candidates are printed.

Writes, next to this script:
  golden.json          per prompt: text, token ids, greedy tokens, top-2 margins of both oracles,
                       and llama.cpp's NMSE against the exact reference (its noise floor)
  <name>.logits.f16    little-endian float16 rows [vocab]: llama.cpp at LLAMA_STEPS, then the exact
                       reference at EXACT_STEPS

Re-run: python3 make_golden.py [--model PATH]   (default: the models cache's SmolLM2-135M-Instruct)
Needs: numpy, gguf, llama-cpp-python.
"""
import argparse
import hashlib
import json
import os
import pathlib
import tempfile

import numpy as np

STEPS = 32
LLAMA_STEPS = [0, 16, 31]
EXACT_STEPS = [0, 31]
N_CTX = 512
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
WANTED = {"plain": 2, "chat": 2}
# Smallest top-2 margin of the exact logits a kept prompt may have: an f32 implementation differs from
# the exact logits by ~1e-4 in absolute terms, and other devices sum in other orders.
MIN_EXACT_MARGIN = 0.02


def chatml(user):
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n")


# Candidates in order of preference; the first WANTED of each kind that pass the checks are kept.
CANDIDATES = [
    ("plain", "plain_recipe", "To make a simple tomato sauce, start by"),
    ("plain", "plain_ocean", "The ocean covers more than seventy percent of the surface of the Earth and"),
    ("plain", "plain_list", "Here are three tips for staying productive when working from home:\n1."),
    ("plain", "plain_email", "Dear team,\n\nI am writing to let you know that"),
    ("plain", "plain_moon", "The Moon is Earth's only natural satellite. It"),
    ("plain", "plain_long", "The history of the printing press begins in the fifteenth century, when Johannes "
                            "Gutenberg combined movable metal type, oil-based ink and a wooden press adapted "
                            "from wine making. Within fifty years, presses had spread to more than two hundred "
                            "cities across Europe, and the number of books in circulation grew from thousands "
                            "to millions. Historians often argue that"),
    ("plain", "plain_france", "The capital of France is"),
    ("plain", "plain_code", "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"),
    ("plain", "plain_story", "Once upon a time, in a small village at the edge of the forest,"),
    ("plain", "plain_science", "Photosynthesis is the process by which plants"),
    ("chat", "chat_hello", chatml("Hello! How are you today?")),
    ("chat", "chat_cats", chatml("Write one sentence about cats.")),
    ("chat", "chat_water", chatml("What is the boiling point of water?")),
    ("chat", "chat_cpu", chatml("Explain what a CPU does in one sentence.")),
    ("chat", "chat_colors", chatml("Name three primary colors.")),
    ("chat", "chat_math", chatml("What is 2 + 2?")),
    ("chat", "chat_planet", chatml("What is the largest planet in the solar system?")),
    ("chat", "chat_sky", chatml("What color is the sky on a clear day?")),
    ("chat", "chat_exercise", chatml("List two benefits of regular exercise.")),
    ("chat", "chat_french", chatml("Translate 'good morning' into French.")),
    ("chat", "chat_tea", chatml("How do I make a cup of green tea?")),
    ("chat", "chat_python", chatml("What is Python used for?")),
]


def default_model():
    base = os.environ.get("PLINTH_MODELS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "plinth", "models")
    return os.path.join(base, "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")


def write_f32_copy(src, dst):
    """The same model with every tensor dequantized to F32: llama.cpp then multiplies in f32 too."""
    import gguf
    from gguf.quants import dequantize
    reader = gguf.GGUFReader(src)
    writer = gguf.GGUFWriter(dst, arch=str(reader.fields["general.architecture"].contents()))
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
            continue
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(name, field.contents(), field.types[0], sub_type=field.types[-1])
        else:
            writer.add_key_value(name, field.contents(), field.types[0])
    for t in reader.tensors:
        shape = [int(x) for x in reversed(t.shape)]
        writer.add_tensor(t.name, np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(shape))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def margin(row):
    top = np.partition(row, -2)[-2:]
    return float(top[1] - top[0])


def nmse(a, b):
    return float(((a - b) ** 2).sum() / (b ** 2).sum())


def main():
    from llama_cpp import Llama
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=default_model())
    args = ap.parse_args()
    out_dir = pathlib.Path(__file__).resolve().parent
    model_bytes = pathlib.Path(args.model).read_bytes()
    llm = Llama(model_path=args.model, logits_all=True, n_ctx=N_CTX, n_threads=2, n_batch=512, seed=1234,
                verbose=False)
    tmp = tempfile.TemporaryDirectory()
    f32_path = os.path.join(tmp.name, "model-f32.gguf")
    write_f32_copy(args.model, f32_path)
    exact = Llama(model_path=f32_path, logits_all=True, n_ctx=N_CTX, n_threads=2, n_batch=512, type_k=0, type_v=0,
                  verbose=False)
    vocab = llm.n_vocab()
    kept = {k: 0 for k in WANTED}
    cases = []
    for kind, name, text in CANDIDATES:
        if kept[kind] >= WANTED[kind]:
            continue
        prompt = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        llm.reset()
        llm.eval(prompt)
        tokens, llama_rows = [], []
        for _ in range(STEPS):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            tokens.append(int(np.argmax(row)))
            llama_rows.append(row)
            llm.eval([tokens[-1]])
        exact.reset()
        exact.eval(prompt + tokens[:-1])
        ex = np.array(exact.scores[len(prompt) - 1:len(prompt) - 1 + STEPS], dtype=np.float64)
        exact_tokens = [int(t) for t in np.argmax(ex, axis=1)]
        completion = llm.detokenize(tokens).decode("utf-8", "replace")
        if exact_tokens != tokens:
            step = next(i for i in range(STEPS) if exact_tokens[i] != tokens[i])
            print(f"rejected {name}: llama.cpp and the exact reference differ at step {step} "
                  f"(llama.cpp margin {margin(llama_rows[step]):.3f}, exact margin {margin(ex[step]):.3f})")
            continue
        if min(margin(r) for r in ex) < MIN_EXACT_MARGIN:
            step = min(range(STEPS), key=lambda i: margin(ex[i]))
            print(f"rejected {name}: exact margin {margin(ex[step]):.4f} at step {step} is a near-tie")
            continue
        kept[kind] += 1
        rows = [llama_rows[s] for s in LLAMA_STEPS] + [ex[s] for s in EXACT_STEPS]
        (out_dir / f"{name}.logits.f16").write_bytes(np.stack(rows).astype("<f2").tobytes())
        noise = {str(s): nmse(llama_rows[s], ex[s]) for s in range(STEPS)}
        cases.append({
            "name": name, "text": text, "prompt_tokens": [int(t) for t in prompt], "greedy_tokens": tokens,
            "llama_cpp_top2_margins": [round(margin(r), 4) for r in llama_rows],
            "exact_top2_margins": [round(margin(r), 4) for r in ex],
            "llama_cpp_vs_exact_nmse": {k: float(f"{v:.3g}") for k, v in noise.items()},
            "logits_file": f"{name}.logits.f16", "completion": completion})
        print(f"kept {name}: {len(prompt)} prompt tokens, min margins llama.cpp "
              f"{min(cases[-1]['llama_cpp_top2_margins']):.3f} exact {min(cases[-1]['exact_top2_margins']):.3f}, "
              f"llama.cpp vs exact NMSE max {max(noise.values()):.2e}: {completion!r}")
    for f in out_dir.glob("*.logits.f16"):
        if f.name not in {c["logits_file"] for c in cases}:
            f.unlink()
    golden = {"model": os.path.basename(args.model), "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
              "generator": "llama.cpp via llama-cpp-python; exact: the same on an F32-dequantized copy",
              "n_ctx": N_CTX, "steps": STEPS, "llama_cpp_logit_steps": LLAMA_STEPS, "exact_logit_steps": EXACT_STEPS,
              "vocab": vocab, "cases": cases}
    (out_dir / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")


if __name__ == "__main__":
    main()
