#!/usr/bin/env python3
"""Build scripts/reference/out/texts.jsonl: varied texts for comparing per-text mean NLL.

Eleven short texts written for this project (prose, code, digits, unicode, whitespace runs,
chat markup), plus one long document: the Wikipedia article "Aardvark" (2014 dump, CC BY-SA,
authors: Wikipedia contributors) from the test data of the gensim==4.4.0 wheel, with its wiki
markup stripped and cut to about 3,000 SmolLM2 tokens.

usage: make_texts.py [--gensim-wheel PATH] [--out PATH]
The wheel is fetched with `pip download --no-deps gensim==4.4.0` into the Gauntlet cache when
not given.
"""
import argparse
import bz2
import glob
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import zipfile

WIKI_MEMBER = (
    "gensim/test/test_data/"
    "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
)
WIKI_SHA256 = "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d"
LONG_CHARS = 13000  # about 3,000 SmolLM2 tokens of English prose

SHORT_TEXTS = [
    # 1. plain prose
    "The validator wakes up every few minutes, reads the chain, and decides which models "
    "deserve another look. Most of the time nothing has changed, so it goes back to sleep; "
    "when a new commitment appears, it downloads the model, checks its size, and scores it "
    "against the same samples every other validator drew from the block hash.",
    # 2. one short sentence
    "Hello, world!",
    # 3. Python code with indentation
    "def mean_nll(logprobs):\n"
    "    \"\"\"Mean negative log-likelihood of the tokens after the first.\"\"\"\n"
    "    if len(logprobs) < 2:\n"
    "        return float('nan')\n"
    "    total = 0.0\n"
    "    for lp in logprobs[1:]:\n"
    "        total -= lp\n"
    "    return total / (len(logprobs) - 1)\n",
    # 4. Rust code
    "fn main() {\n"
    "    let xs: Vec<u64> = (1..=10).map(|i| i * i).collect();\n"
    "    let sum: u64 = xs.iter().sum();\n"
    "    println!(\"sum of squares = {sum}\"); // 385\n"
    "}\n",
    # 5. digits and numbers (the smollm pre-tokenizer splits digits one by one)
    "Block 4675163 was produced at 2024-11-05T13:37:42Z; the stake was 1,234,567.891 TAO, "
    "pi is 3.14159265358979 and 2^64 = 18446744073709551616.",
    # 6. unicode: accents, CJK, emoji, math
    "Café Müller — naïve façade. 東京は日本の首都です。 Привет, мир! 🚀✨ ∑ᵢ xᵢ² ≤ ∞ · αβγ",
    # 7. whitespace runs, tabs and blank lines
    "col1\tcol2\t\tcol3\n\n\n    indented    with     runs\n\t\n  trailing   \n",
    # 8. a JSON document
    '{"netuid": 37, "uids": [0, 1, 2], "weights": [65535, 1200, 0], "version_key": 3001, '
    '"ok": true, "note": null}',
    # 9. chat markup as plain text (special tokens in text are parsed as special tokens)
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    "The capital of France is Paris.<|im_end|>\n",
    # 10. a multiple-choice question as the eval renders it
    "Which planet is known as the Red Planet?\nA. Venus\nB. Mars\nC. Jupiter\nD. Saturn",
    # 11. a list of words (as in the word-sorting eval)
    "Sort the following words alphabetically: zebra apple mango kiwi banana cherry. "
    "apple banana cherry kiwi mango zebra",
]


def cache_dir():
    return os.environ.get("GAUNTLET_CACHE", os.path.expanduser("~/.cache/gauntlet"))


def find_gensim_wheel():
    pydir = os.path.join(cache_dir(), "pypi")
    hits = glob.glob(os.path.join(pydir, "gensim-4.4.0-*.whl"))
    if not hits:
        os.makedirs(pydir, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary", ":all:", "-d", pydir, "gensim==4.4.0"],
            check=True,
        )
        hits = glob.glob(os.path.join(pydir, "gensim-4.4.0-*.whl"))
    if not hits:
        sys.exit("error: could not get the gensim==4.4.0 wheel")
    return hits[0]


def strip_templates(s):
    # remove {{...}} and {|...|} blocks, nested
    out, depth, i = [], 0, 0
    while i < len(s):
        two = s[i:i + 2]
        at_line_start = i == 0 or s[i - 1] == "\n"
        if two == "{{" or (two == "{|" and at_line_start):
            depth += 1
            i += 2
        elif depth and (two == "}}" or (two == "|}" and at_line_start)):
            depth -= 1
            i += 2
        else:
            if depth == 0:
                out.append(s[i])
            i += 1
    return "".join(out)


def strip_links(s):
    # [[File:...]] / [[Image:...]] with nested links: drop whole
    out, i = [], 0
    while i < len(s):
        m = re.match(r"\[\[(File|Image|Category|[a-z]{2,3}):", s[i:])
        if m:
            depth, j = 0, i
            while j < len(s):
                if s.startswith("[[", j):
                    depth += 1
                    j += 2
                elif s.startswith("]]", j):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            i = j
        else:
            out.append(s[i])
            i += 1
    s = "".join(out)
    s = re.sub(r"\[\[([^\]|]*)\|([^\]]*)\]\]", r"\2", s)
    s = re.sub(r"\[\[([^\]]*)\]\]", r"\1", s)
    s = re.sub(r"\[https?://\S+ ([^\]]*)\]", r"\1", s)
    s = re.sub(r"\[https?://\S+\]", "", s)
    return s


def wiki_to_text(wt):
    s = html.unescape(wt)
    s = re.sub(r"<!--.*?-->", "", s, flags=re.S)
    s = re.sub(r"<ref[^>/]*/>", "", s)
    s = re.sub(r"<ref[^>]*>.*?</ref>", "", s, flags=re.S)
    # {{convert|10|m|ft}} -> "10 m"; {{convert|3|to|5|km}} -> "3 to 5 km"
    s = re.sub(r"\{\{convert\|([\d.,]+)\|(to|-|and)\|([\d.,]+)\|([^|}]+)[^}]*\}\}", r"\1 \2 \3 \4", s)
    s = re.sub(r"\{\{convert\|([\d.,]+)\|([^|}]+)[^}]*\}\}", r"\1 \2", s)
    s = strip_templates(s)
    s = strip_links(s)
    s = re.sub(r"<[^>]+>", "", s)
    s = re.sub(r"'{2,}", "", s)
    s = re.sub(r"^=+\s*(.*?)\s*=+\s*$", r"\1", s, flags=re.M)
    lines = []
    for line in s.split("\n"):
        line = line.rstrip()
        if line.startswith(("*", "#", ":", ";", "|", "!")):
            continue
        lines.append(line)
    s = "\n".join(lines)
    s = re.sub(r"[ \t]+([,.;:])", r"\1", s)
    s = re.sub(r"\(\s*[,;]?\s*\)", "", s)
    s = re.sub(r"\(\s*[,;]\s*", "(", s)
    s = re.sub(r"  +", " ", s)
    s = re.sub(r"\n{3,}", "\n\n", s)
    return s.strip()


def long_document(wheel):
    with zipfile.ZipFile(wheel) as z:
        raw = z.read(WIKI_MEMBER)
    got = hashlib.sha256(raw).hexdigest()
    if got != WIKI_SHA256:
        sys.exit(f"error: sha256 mismatch for {WIKI_MEMBER}: {got}")
    xml = bz2.decompress(raw).decode("utf-8")
    for page in re.findall(r"<page>(.*?)</page>", xml, flags=re.S):
        if re.search(r"<title>Aardvark</title>", page):
            text = re.search(r"<text[^>]*>(.*?)</text>", page, flags=re.S).group(1)
            break
    else:
        sys.exit("error: article 'Aardvark' not found")
    text = wiki_to_text(text)
    # cut at the paragraph end nearest LONG_CHARS; drop the trailing reference sections
    text = re.split(r"\n(See also|References|Notes|External links)\n", text)[0]
    if len(text) > LONG_CHARS:
        cut = text.rfind("\n\n", 0, LONG_CHARS)
        if cut < LONG_CHARS // 2:
            cut = text.rfind(". ", 0, LONG_CHARS) + 1
        text = text[:cut].rstrip()
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gensim-wheel")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out", "texts.jsonl"))
    a = ap.parse_args()
    wheel = a.gensim_wheel or find_gensim_wheel()
    texts = list(SHORT_TEXTS) + [long_document(wheel)]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} texts to {a.out} ({os.path.getsize(a.out)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
