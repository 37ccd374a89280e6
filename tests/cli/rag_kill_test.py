#!/usr/bin/env python3
"""kill -9 of a whole `plinth ingest` at random moments, 20 times, then a run that finishes.

With the real encoder on cpu:0. After every kill the collection's SQLite file must pass
PRAGMA integrity_check and FTS5's integrity check, and every document it holds must be complete
(its chunks numbered 0..n-1, each with an embedding). A document committed before a kill must never
be written again by a later run (its row id stays: no document is embedded twice). When the last run
finishes, the collection must hold exactly what one uninterrupted ingest of the same files holds:
the same documents with the same chunk texts (nothing duplicated, nothing lost).

Usage: rag_kill_test.py PLINTH      Standard library only; kills are bounded in count and time.
"""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

KILLS = 20
TOPICS = ["deploy", "backup", "network", "storage", "billing", "login", "search", "upload", "metrics", "alerts"]


def write_corpus(docs):
    """24 small Markdown and text files of two sections each: a run of seconds."""
    rng = random.Random(7)
    words = ("replica volume snapshot tenant request latency cache queue worker token shard index schedule "
             "restart drain rollout quota invoice password session upload bucket metric alert threshold").split()
    for i in range(24):
        topic = TOPICS[i % len(TOPICS)]
        lines = ["# %s guide %d" % (topic.title(), i), ""]
        for s in range(2):
            lines += ["## Section %d of %s" % (s, topic), ""]
            for _ in range(2):
                lines.append(" ".join(rng.choice(words) for _ in range(40)) + ".")
                lines.append("")
        ext = ".md" if i % 2 == 0 else ".txt"
        with open(os.path.join(docs, "%s_%02d%s" % (topic, i, ext)), "w", encoding="utf-8") as f:
            f.write("\n".join(lines))


def snapshot(db_path):
    """{source: (doc_id, [chunk texts])} of complete documents; fails on any inconsistency."""
    if not os.path.exists(db_path):
        return {}
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check failed"
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        docs = {}
        for doc_id, source in db.execute("SELECT id, source FROM documents"):
            rows = db.execute("SELECT ordinal, text, length(embedding) > 0 FROM chunks WHERE doc_id = ? "
                              "ORDER BY ordinal", (doc_id,)).fetchall()
            expected = db.execute("SELECT chunk_count FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
            assert rows and len(rows) == expected, "document %s: %d of %d chunks" % (source, len(rows), expected)
            assert [r[0] for r in rows] == list(range(len(rows))), "document %s: chunks missing" % source
            assert all(r[2] for r in rows), "document %s: a chunk without its embedding" % source
            docs[source] = (doc_id, [r[1] for r in rows])
        return docs
    finally:
        db.close()


def ingest(plinth, root, docs, collection, kill_after=None):
    cmd = [plinth, "ingest", "--root", root, "--device", "cpu:0", "--collection", collection, docs]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if kill_after is None:
        _, err = proc.communicate(timeout=240)
        if proc.returncode != 0:
            sys.exit("FAIL: %s exited %d: %s" % (" ".join(cmd), proc.returncode, err))
        return err
    try:
        proc.wait(timeout=kill_after)
        return None  # it finished before the kill
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return "killed"


def main():
    plinth = sys.argv[1]
    probe = subprocess.run([plinth, "embed", "--device", "cpu:0", "probe"], capture_output=True, text=True)
    if probe.returncode != 0 and "is not installed in" in probe.stderr:
        if os.environ.get("PLINTH_REQUIRE_MODELS") == "1":
            sys.exit("FAIL: the default models are missing and PLINTH_REQUIRE_MODELS=1")
        print("PLINTH_TEST_SKIPPED: the default embedding model is not installed")
        return
    work = tempfile.mkdtemp(prefix="plinth-rag-kill-")
    try:
        run_kills(plinth, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_kills(plinth, work):
    docs = os.path.join(work, "docs")
    os.makedirs(docs)
    write_corpus(docs)
    root = os.path.join(work, "data")

    # The reference: one uninterrupted ingest into another collection.
    t0 = time.monotonic()
    ingest(plinth, root, docs, "reference")
    full_s = time.monotonic() - t0
    reference = snapshot(os.path.join(root, "default", "reference.sqlite"))
    print("reference ingest: %d documents in %.1f s" % (len(reference), full_s))

    def check_complete(db_path, committed):
        final = snapshot(db_path)
        for source, doc_id in committed.items():
            assert final[source][0] == doc_id, "FAIL: %s was embedded again by the run that finished" % source
        assert sorted(final) == sorted(reference), "FAIL: documents differ from an uninterrupted ingest"
        for source in reference:
            assert final[source][1] == reference[source][1], "FAIL: %s's chunks differ (duplicated or lost)" % source

    rng = random.Random(int(os.environ.get("PLINTH_TEST_SEED", "20261204")))
    deadline = time.monotonic() + 300
    kills = runs = 0
    generation = 0  # a collection that an uninterrupted run completed is checked, then a fresh one begins
    committed = {}
    while kills < KILLS and time.monotonic() < deadline:
        runs += 1
        db_path = os.path.join(root, "default", "kb%d.sqlite" % generation)
        # Anywhere from before the model has loaded to past the end of what is left to do.
        left = 1.0 - len(committed) / len(reference)
        outcome = ingest(plinth, root, docs, "kb%d" % generation, kill_after=rng.uniform(0.05, 1.0 + full_s * left))
        now = snapshot(db_path)
        for source, doc_id in committed.items():
            assert source in now, "FAIL: %s was committed, then lost" % source
            assert now[source][0] == doc_id, "FAIL: %s was written again (embedded twice)" % source
        print("run %d (collection kb%d): %s; %d/%d documents committed"
              % (runs, generation, outcome or "finished", len(now), len(reference)), flush=True)
        if outcome == "killed":
            kills += 1
            committed = {s: v[0] for s, v in now.items()}
        else:
            check_complete(db_path, committed)
            generation += 1
            committed = {}
    assert kills == KILLS, "FAIL: only %d of %d kills within the time bound" % (kills, KILLS)

    # The last collection's ingest, resumed to the end.
    db_path = os.path.join(root, "default", "kb%d.sqlite" % generation)
    err = ingest(plinth, root, docs, "kb%d" % generation)
    check_complete(db_path, committed)
    print("final run: %s" % err.strip().splitlines()[-1])
    print("PASS: %d kills over %d runs, integrity_check ok after each, nothing written twice, "
          "every finished collection equal to an uninterrupted ingest" % (kills, runs))


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit(str(e) if str(e).startswith("FAIL") else "FAIL: " + str(e))
