#!/usr/bin/env python3
"""Retrieval quality and ingest speed of Plinth's RAG pipeline on a real corpus.

Ingests Debian's python3.11-doc HTML (about 500 pages) into a fresh collection with `plinth ingest`,
asks the questions of tests/rag/qa/python311_qa.jsonl with `plinth search --json` in each mode
(bm25, dense, hybrid), and prints recall@5, MRR@10 and nDCG@10 per mode. A retrieved chunk answers a
question when it comes from the question's page and contains its evidence phrase (whitespace and
quotes normalized). Then it embeds the same chunk texts with `plinth embed` alone, in batches of the
same size, so the ingest rate is printed beside the encoder's own rate measured in the same run.

  bench/rag-eval.py [--plinth build/bin/plinth] [--docs /usr/share/doc/python3.11/html] [--work DIR]
                    [--device cpu:0] [--keep] [--calibrate] [--answers N]

--calibrate: the best dense similarity of each QA question and of each off-topic question
(tests/rag/qa/offtopic_questions.txt) against the collection, and for each threshold the share of
answerable questions kept and of off-topic ones refused: what `plinth ask --min-score` is set from.
--answers N: `plinth ask --json` on N QA questions (spread over the set) and on the off-topic ones:
the answer rate, how often an answer cites a source, and the answer check (a cited source is a chunk
that answers the question, by the same rule as retrieval).

Standard library only.
"""
import argparse
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def norm(text):
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


def relevant(hit, qa):
    return hit["source"] == qa["page"] and norm(qa["evidence"]) in norm(hit["text"])


def metrics(results, qas):
    """recall@5, MRR@10, nDCG@10 with one relevant item per question (the first answering hit)."""
    r5 = mrr = ndcg = 0.0
    for qa in qas:
        hits = results[qa["question"]]
        ranks = [i + 1 for i, h in enumerate(hits[:10]) if relevant(h, qa)]
        if ranks and ranks[0] <= 5:
            r5 += 1
        if ranks:
            mrr += 1.0 / ranks[0]
            ndcg += 1.0 / math.log2(ranks[0] + 1)  # ideal DCG is 1: one relevant chunk at rank 1
    n = len(qas)
    return r5 / n, mrr / n, ndcg / n


def run(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def best_dense(args, common, work, questions):
    """The best dense similarity of each question against the collection."""
    qfile = os.path.join(work, "calibration.txt")
    with open(qfile, "w", encoding="utf-8") as f:
        for q in questions:
            f.write(q.replace("\n", " ") + "\n")
    out = run([args.plinth, "search", *common, "--collection", "pydocs", "--mode", "dense", "-k", "1",
               "--json", "--queries", qfile], stdout=subprocess.PIPE, text=True).stdout
    return [max([h["dense_score"] for h in json.loads(line)["hits"]] or [0.0])
            for line in out.splitlines() if line.strip()]


def calibrate(args, common, work, qas, offtopic):
    pos = best_dense(args, common, work, [qa["question"] for qa in qas])
    neg = best_dense(args, common, work, offtopic)
    print()
    print("best dense similarity: answerable %d questions min %.3f median %.3f; off-topic %d max %.3f median %.3f"
          % (len(pos), min(pos), sorted(pos)[len(pos) // 2], len(neg), max(neg), sorted(neg)[len(neg) // 2]))
    print("| --min-score | answerable kept | off-topic refused | balanced accuracy |")
    print("|---|---|---|---|")
    best = None
    t = 0.10
    while t <= 0.601:
        kept = sum(p >= t for p in pos) / len(pos)
        refused = sum(n < t for n in neg) / len(neg)
        bal = (kept + refused) / 2
        if best is None or bal > best[0]:
            best = (bal, t)
        print("| %.3f | %.3f | %.3f | %.3f |" % (t, kept, refused, bal))
        t += 0.025
    print("best balanced accuracy %.3f at --min-score %.3f" % best[::1])


def ask(args, common, question):
    cmd = [args.plinth, "ask", *common, "--collection", "pydocs", "--json", question]
    if args.min_score is not None:
        cmd[2:2] = ["--min-score", str(args.min_score)]
    t0 = time.monotonic()
    out = run(cmd, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1]), time.monotonic() - t0


def answer_check(args, common, work, qas, offtopic):
    db = sqlite3.connect(os.path.join(work, "default", "pydocs.sqlite"))
    step = max(1, len(qas) // args.answers)
    picked = qas[::step][:args.answers]
    answered = citing = checked = 0
    seconds = []
    for qa in picked:
        r, s = ask(args, common, qa["question"])
        seconds.append(s)
        if not r["found"] or r["answer"].strip().startswith("Not found in the documents"):
            continue
        answered += 1
        cited = [src for src in r["sources"] if src["cited"]]
        citing += bool(cited)
        for src in cited:
            text = db.execute("SELECT text FROM chunks WHERE id = ?", (src["chunk_id"],)).fetchone()
            if text and relevant({"source": src["source"], "text": text[0]}, qa):
                checked += 1
                break
    refused = 0
    for q in offtopic:
        r, s = ask(args, common, q)
        seconds.append(s)
        refused += (not r["found"]) or r["answer"].strip().startswith("Not found in the documents")
    n = len(picked)
    print()
    print("plinth ask on %d QA questions and %d off-topic ones (%.1f s per question, model loads included):"
          % (n, len(offtopic), sum(seconds) / len(seconds)))
    print("| answer rate | answers citing a source | answer check: a cited source answers | off-topic refused |")
    print("|---|---|---|---|")
    print("| %d/%d = %.3f | %d/%d | %d/%d = %.3f of all, %.3f of answers | %d/%d |"
          % (answered, n, answered / n, citing, answered, checked, n, checked / n,
             checked / answered if answered else 0.0, refused, len(offtopic)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plinth", default=os.path.join(ROOT, "build", "bin", "plinth"))
    ap.add_argument("--docs", default="/usr/share/doc/python3.11/html")
    ap.add_argument("--qa", default=os.path.join(ROOT, "tests", "rag", "qa", "python311_qa.jsonl"))
    ap.add_argument("--work", help="data root to use (default: a temporary directory)")
    ap.add_argument("--device", default="cpu:0")
    ap.add_argument("--keep", action="store_true", help="keep the data root")
    ap.add_argument("--skip-ingest", action="store_true", help="reuse the collection already in --work")
    ap.add_argument("--qa-pages-only", action="store_true",
                    help="ingest only the pages the questions cite plus --distractors others (a quick run)")
    ap.add_argument("--distractors", type=int, default=0, help="with --qa-pages-only: other pages added")
    ap.add_argument("--no-baseline", action="store_true", help="skip the encoder-alone pass")
    ap.add_argument("--offtopic", default=os.path.join(ROOT, "tests", "rag", "qa", "offtopic_questions.txt"))
    ap.add_argument("--calibrate", action="store_true", help="the not-found threshold table")
    ap.add_argument("--answers", type=int, default=0, help="plinth ask on N QA questions and the off-topic ones")
    ap.add_argument("--min-score", type=float, help="plinth ask's --min-score (default: its own)")
    ap.add_argument("--no-retrieval", action="store_true", help="skip the retrieval metrics")
    args = ap.parse_args()
    if not os.path.isdir(args.docs):
        sys.exit("no docs at %s (Debian package python3.11-doc)" % args.docs)
    qas = [json.loads(line) for line in open(args.qa, encoding="utf-8") if line.strip()]
    work = args.work or tempfile.mkdtemp(prefix="plinth-rag-eval-")
    common = ["--root", work, "--device", args.device]
    try:
        source = args.docs
        if args.qa_pages_only and not args.skip_ingest:
            # A tree of links to the cited pages (and some others), so sources keep their relative paths.
            source = os.path.join(work, "pages")
            pages = sorted({qa["page"] for qa in qas})
            others = sorted(os.path.relpath(os.path.join(d, f), args.docs)
                            for d, _, files in os.walk(args.docs) for f in files
                            if f.endswith(".html") and os.path.relpath(os.path.join(d, f), args.docs) not in pages)
            step = max(1, len(others) // max(1, args.distractors)) if args.distractors else 0
            pages += others[::step][:args.distractors] if step else []
            for page in pages:
                os.makedirs(os.path.dirname(os.path.join(source, page)), exist_ok=True)
                os.symlink(os.path.join(args.docs, page), os.path.join(source, page))
        if not args.skip_ingest:
            t0 = time.monotonic()
            run([args.plinth, "ingest", *common, "--collection", "pydocs", source])
            ingest_s = time.monotonic() - t0
        db = sqlite3.connect(os.path.join(work, "default", "pydocs.sqlite"))
        chunks = db.execute("SELECT heading_path, text FROM chunks").fetchall()
        docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        db.close()

        results = {}
        table = []
        qfile = os.path.join(work, "questions.txt")
        with open(qfile, "w", encoding="utf-8") as f:
            for qa in qas:
                f.write(qa["question"].replace("\n", " ") + "\n")
        latency = {}
        for mode in () if args.no_retrieval else ("bm25", "dense", "hybrid"):
            out = run([args.plinth, "search", *common, "--collection", "pydocs", "--mode", mode, "-k", "10",
                       "--json", "--queries", qfile], stdout=subprocess.PIPE, text=True).stdout
            rows = [json.loads(line) for line in out.splitlines() if line.strip()]
            results = {r["query"]: r["hits"] for r in rows}
            ms = sorted(r["ms"] for r in rows)
            latency[mode] = (ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))])
            table.append((mode,) + metrics(results, qas))

        offtopic = [l.strip() for l in open(args.offtopic, encoding="utf-8") if l.strip()]
        if args.calibrate:
            calibrate(args, common, work, qas, offtopic)
        if args.answers:
            answer_check(args, common, work, qas, offtopic)
        if args.no_retrieval:
            return
        print()
        print("corpus: %d documents, %d chunks; %d questions" % (docs, len(chunks), len(qas)))
        print("| method | recall@5 | MRR@10 | nDCG@10 | query p50 / p99 (ms, embedding included) |")
        print("|---|---|---|---|---|")
        for mode, r5, mrr, ndcg in table:
            print("| %s | %.3f | %.3f | %.3f | %.1f / %.1f |" % (mode, r5, mrr, ndcg, *latency[mode]))

        if not args.skip_ingest and not args.no_baseline:
            # The encoder alone over the same texts, in the same run.
            tfile = os.path.join(work, "chunks.txt")
            with open(tfile, "w", encoding="utf-8") as f:
                for heading, text in chunks:
                    t = (heading + "\n\n" + text) if heading else text
                    f.write(re.sub(r"\s+", " ", t).strip() + "\n")
            t0 = time.monotonic()
            run([args.plinth, "embed", "--device", args.device, "--file", tfile],
                stdout=subprocess.DEVNULL)
            embed_s = time.monotonic() - t0
            print()
            print("ingest: %d chunks in %.1f s = %.1f chunks/s (whole command: load, walk, extract, chunk, embed, store)"
                  % (len(chunks), ingest_s, len(chunks) / ingest_s))
            print("encoder alone (plinth embed, same texts, same device): %.1f s = %.1f chunks/s" %
                  (embed_s, len(chunks) / embed_s))
            print("pipeline overhead: %.1f%% (goal <= 15%%)" % (100.0 * (ingest_s / embed_s - 1.0)))
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
