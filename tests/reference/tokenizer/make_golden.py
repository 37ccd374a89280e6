#!/usr/bin/env python3
"""Oracle for Plinth's tokenizers: runs the reference implementations on corpus.json and writes the
golden files the C++ tests compare against (ids exactly, decoded text where stated).

  wordpiece_golden.json  all-MiniLM-L6-v2 tokenizer.json through HF `tokenizers` (add_special_tokens,
                         no truncation/padding); decode(skip_special_tokens=True). The same ids are
                         checked to come out of vocab.txt via BertWordPieceTokenizer.
  bpe_golden.json        SmolLM2-135M-Instruct GGUF through llama.cpp (llama-cpp-python, vocab_only,
                         add_special=True, parse_special=True); llama_detokenize without and with
                         specials. Also the same vocabulary re-labelled with the pre-tokenizers
                         "gpt-2", "llama3" and "default" (a metadata-only copy of the GGUF, written to a
                         temporary directory), ids only.
  chat_golden.json       the model's tokenizer.chat_template rendered with jinja2 for a few
                         conversations.

Needs: tokenizers, llama-cpp-python, gguf, jinja2. Models from PLINTH_MODELS_DIR, else
$XDG_CACHE_HOME/plinth/models, else ~/.cache/plinth/models.
"""
import ctypes
import json
import os
import pathlib
import tempfile

HERE = pathlib.Path(__file__).resolve().parent


def models_dir() -> pathlib.Path:
    if os.environ.get("PLINTH_MODELS_DIR"):
        return pathlib.Path(os.environ["PLINTH_MODELS_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return pathlib.Path(os.environ["XDG_CACHE_HOME"]) / "plinth" / "models"
    return pathlib.Path.home() / ".cache" / "plinth" / "models"


def write(name: str, data) -> None:
    path = HERE / name
    path.write_text(json.dumps(data, ensure_ascii=True, indent=None, separators=(",", ":")) + "\n")
    print(f"{name}: {path.stat().st_size} bytes")


def wordpiece(corpus):
    from tokenizers import BertWordPieceTokenizer, Tokenizer

    model = models_dir() / "all-MiniLM-L6-v2"
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    from_vocab = BertWordPieceTokenizer(str(model / "vocab.txt"), lowercase=True)
    cases = []
    for text in corpus:
        ids = tok.encode(text, add_special_tokens=True).ids
        assert from_vocab.encode(text, add_special_tokens=True).ids == ids, text
        cases.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=True)})
    write("wordpiece_golden.json", {"model": "all-MiniLM-L6-v2", "cases": cases})


def llama_vocab(path):
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return llm, llama_cpp.llama_model_get_vocab(llm.model)


def detokenize(vocab, ids, unparse_special):
    import llama_cpp

    arr = (llama_cpp.llama_token * max(len(ids), 1))(*ids)
    size = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, False, unparse_special)
    assert n >= 0
    return buf.raw[:n].decode("utf-8", errors="replace")


def relabelled_copy(src: pathlib.Path, dst: pathlib.Path, pre: str) -> None:
    """The metadata of src (no tensors) with tokenizer.ggml.pre replaced."""
    import gguf

    reader = gguf.GGUFReader(str(src))
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(str(dst), arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        value = field.contents()
        if name == "tokenizer.ggml.pre":
            value = pre
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, value, vtype, sub_type=sub)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()


def bpe(corpus):
    gguf_path = models_dir() / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    llm, vocab = llama_vocab(gguf_path)
    cases = []
    for text in corpus:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        cases.append({
            "text": text,
            "ids": ids,
            "decoded": detokenize(vocab, ids, False),
            "decoded_special": detokenize(vocab, ids, True),
        })
    variants = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pre in ("gpt-2", "llama3", "default"):
            path = pathlib.Path(tmp) / f"{pre}.gguf"
            relabelled_copy(gguf_path, path, pre)
            vllm, _ = llama_vocab(path)
            # llama3 turns add_bos on by default, but the copied metadata keeps add_bos_token=false.
            variants[pre] = [vllm.tokenize(t.encode("utf-8"), add_bos=True, special=True) for t in corpus]
            del vllm
    write("bpe_golden.json", {"model": "SmolLM2-135M-Instruct", "cases": cases, "pre_variants": variants})


def chat():
    import gguf
    import jinja2

    gguf_path = models_dir() / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    reader = gguf.GGUFReader(str(gguf_path))
    template = reader.fields["tokenizer.chat_template"].contents()
    env = jinja2.Environment()
    compiled = env.from_string(template)
    conversations = [
        [{"role": "user", "content": "hi"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"}],
        [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi! How can I help?"},
         {"role": "user", "content": "Tell me a joke.\nMake it short."}],
        [],
    ]
    cases = []
    for messages in conversations:
        for gen in (True, False):
            cases.append({"messages": messages, "add_generation_prompt": gen,
                          "expected": compiled.render(messages=messages, add_generation_prompt=gen)})
    write("chat_golden.json", {"model": "SmolLM2-135M-Instruct", "template": template, "cases": cases})


def main():
    corpus = json.loads((HERE / "corpus.json").read_text())
    wordpiece(corpus)
    bpe(corpus)
    chat()


if __name__ == "__main__":
    main()
