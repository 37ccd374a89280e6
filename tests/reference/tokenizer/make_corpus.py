#!/usr/bin/env python3
"""Writes corpus.json: the hard strings both tokenizers are checked on (re-runnable, deterministic)."""
import json
import pathlib

CORPUS = [
    "",
    "Hello world",
    "Hello, world! How are you?",
    "The quick brown fox jumps over the lazy dog.",
    "  leading and trailing spaces  ",
    "multiple   spaces    between\twords",
    "tabs\tand\nnewlines\r\nand\n\n\nblank lines",
    " ",
    "\n",
    "\t\t  \n  \t",
    "Café déjà vu, naïve façade, Ångström, crème brûlée",
    "ÀÉÎÕÜ àéîõü ñÑ çÇ ß ẞ",
    "Straße İstanbul ΣΊΣΥΦΟΣ",
    "日本語のテキストと中文字符混在",
    "我爱北京天安门。",
    "한국어 텍스트 안녕하세요",
    "Привет, мир! Как дела?",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "emoji 😀 👍🏽 🇫🇷 👨‍👩‍👧 ❤️ done",
    "numbers 1 12 123 1234 12345 1234567890 3.14159 -42 1,000,000",
    "year 2024, phone +1-555-0100, 007",
    "Arabic-Indic ٠١٢٣ and fullwidth １２３ and superscript ²³",
    "I'm sure you're right, they've said it's what we'd do and I'll go, don't you?",
    "DON'T SHOUT, I'M HERE. It'S OK",
    "def foo(x):\n    return x ** 2  # square\n",
    "int main() { std::vector<int> v{1, 2, 3}; return v[0] != 0 ? 1 : 0; }",
    "if (a && b || !c) { x += 1; } else { y -= 2; }",
    "<html><body class=\"main\">Hello &amp; welcome</body></html>",
    "https://example.com/path?query=1&other=two#frag",
    "user@example.com said: \"quotes\" and 'single' and `backticks`",
    "mixed English и русский 和中文 and عربي",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "text<|im_end|>more text<|endoftext|>",
    "<|im_start|><|im_start|>nested<|im_end|>",
    "<|im_start partial special <|im_end",
    "[CLS] [SEP] [MASK]",
    "[CLS]hello[SEP]world[MASK].",
    "[cls] lowercase specials [pad] [unk]",
    "a" * 120,
    "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "control\x00chars\x01\x02\x07\x1b[0m here\x7f",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "nbsp\u00a0here and\u2003em space and\u3000ideographic space",
    "line\u2028separator\u2029paragraph\u0085nel",
    "combining e\u0301 a\u0300 o\u0308 n\u0303",
    "punctuation!!! ??? ... --- ;;; ::: ((())) [[[]]] {{{}}}",
    "math: x² + y² = z², ∑ ∫ √ ∞ ≠ ≤ ≥ π",
    "currency $100 €50 £30 ¥1000 ₹500",
    "ﬁ ligature and ℌ fraktur and Ⅻ roman",
    "Hello\u3002World\uff01",
    "tokenization of unseen worrds like xyzzy and qwertyuiop",
    "A" * 8 + " " + "b" * 7 + " " + "!" * 9,
    "   \n\n   indented\n\ttabbed\n",
    "trailing newline\n",
    "The year 1999 and 12345678901234567890 digits",
]


def main():
    out = pathlib.Path(__file__).with_name("corpus.json")
    out.write_text(json.dumps(CORPUS, ensure_ascii=True, indent=1) + "\n")
    print(f"{out.name}: {len(CORPUS)} strings")


if __name__ == "__main__":
    main()
