"""The official `openai` Python client (PyPI) against a real `plinth serve` on loopback: chat and
completions, streamed and not; embeddings (float and base64); models; and every error status mapped
to the client's exception class. Also: a client that hangs up cancels its generation, and SIGTERM
lets a stream in flight finish before the server exits 0.

Usage: openai_client_test.py PLINTH_BINARY  (exit 77: skipped, when the client or the default models
are missing and PLINTH_REQUIRE_MODELS is not 1)."""

import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_fixture  # noqa: E402
from serve_fixture import DECODER, ENCODER, Server, key_hash  # noqa: E402

PLINTH = None
SKIP = 77

KEY_A = "sk-test-tenant-a-0123456789"
KEY_B = "sk-test-tenant-b-9876543210"
KEY_SLOW = "sk-test-tenant-limited-000"
CONFIG = f"""
[[tenant]]
name = "a"
weight = 2.0

[[tenant]]
name = "b"
models = ["{ENCODER}"]

[[tenant]]
name = "limited"
requests_per_minute = 1
request_burst = 1

[[key]]
tenant = "a"
sha256 = "{key_hash(KEY_A)}"

[[key]]
tenant = "b"
sha256 = "{key_hash(KEY_B)}"

[[key]]
tenant = "limited"
sha256 = "{key_hash(KEY_SLOW)}"
"""


def client(key=KEY_A, server=None):
    import openai
    return openai.OpenAI(base_url=(server or ServerTest.server).base + "/v1", api_key=key, max_retries=0, timeout=120)


class ServerTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(PLINTH, ["--max-running", "8"], config=CONFIG)
        cls.server.wait_ready()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.__exit__(None, None, None)
        assert code == 0, f"plinth serve exited {code}:\n" + "\n".join(cls.server.log)

    def test_chat_streamed_equals_unstreamed(self):
        c = client()
        messages = [{"role": "user", "content": "What is the capital of France?"}]
        whole = c.chat.completions.create(model=DECODER, messages=messages, max_tokens=12, temperature=0)
        choice = whole.choices[0]
        self.assertEqual(whole.object, "chat.completion")
        self.assertEqual(choice.message.role, "assistant")
        self.assertTrue(choice.message.content)
        self.assertIn(choice.finish_reason, ("stop", "length"))
        self.assertGreater(whole.usage.prompt_tokens, 5)
        self.assertLessEqual(whole.usage.completion_tokens, 12)
        self.assertEqual(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens)

        pieces, finish, usage = [], None, None
        stream = c.chat.completions.create(model=DECODER, messages=messages, max_tokens=12, temperature=0,
                                           stream=True, stream_options={"include_usage": True})
        for chunk in stream:
            self.assertEqual(chunk.object, "chat.completion.chunk")
            if chunk.usage:
                usage = chunk.usage
            for ch in chunk.choices:
                if ch.delta.content:
                    pieces.append(ch.delta.content)
                if ch.finish_reason:
                    finish = ch.finish_reason
        # Greedy decoding: the same answer either way.
        self.assertEqual("".join(pieces), choice.message.content)
        self.assertEqual(finish, choice.finish_reason)
        self.assertIsNotNone(usage)
        self.assertEqual(usage.completion_tokens, whole.usage.completion_tokens)

    def test_chat_stop_string_and_seed(self):
        c = client()
        messages = [{"role": "user", "content": "Describe the sea in two sentences."}]
        free = c.chat.completions.create(model=DECODER, messages=messages, max_tokens=24, temperature=0)
        text = free.choices[0].message.content
        words = text.split()
        self.assertGreater(len(words), 4, text)
        stop = " " + words[3]  # the answer must end just before the fourth word
        r = c.chat.completions.create(model=DECODER, messages=messages, max_tokens=24, temperature=0, stop=[stop])
        self.assertEqual(r.choices[0].message.content, text[:text.index(stop)])
        self.assertEqual(r.choices[0].finish_reason, "stop")
        same = [c.chat.completions.create(model=DECODER, messages=messages, max_tokens=10, temperature=0.9, seed=7)
                .choices[0].message.content for _ in range(2)]
        self.assertEqual(same[0], same[1])

    def test_completions(self):
        c = client()
        r = c.completions.create(model=DECODER, prompt="The quick brown fox", max_tokens=8, temperature=0)
        self.assertEqual(r.object, "text_completion")
        self.assertTrue(r.choices[0].text)
        streamed = "".join(ch.choices[0].text for ch in c.completions.create(
            model=DECODER, prompt="The quick brown fox", max_tokens=8, temperature=0, stream=True) if ch.choices)
        self.assertEqual(streamed, r.choices[0].text)
        # Extensions through extra_body, as clients pass them: ignore_eos runs to max_tokens.
        long = c.completions.create(model=DECODER, prompt=[1, 2, 3], max_tokens=40, temperature=0,
                                    extra_body={"ignore_eos": True, "top_k": 1, "priority": 3})
        self.assertEqual(long.usage.completion_tokens, 40)
        self.assertEqual(long.choices[0].finish_reason, "length")

    def test_embeddings(self):
        c = client(KEY_B)
        floats = c.embeddings.create(model=ENCODER, input=["hello world", "goodbye"], encoding_format="float")
        self.assertEqual(len(floats.data), 2)
        self.assertEqual(len(floats.data[0].embedding), 384)
        norm = sum(x * x for x in floats.data[0].embedding) ** 0.5
        self.assertAlmostEqual(norm, 1.0, places=3)
        self.assertGreater(floats.usage.prompt_tokens, 4)
        # The client asks for base64 by default and decodes it: the same numbers.
        b64 = c.embeddings.create(model=ENCODER, input="hello world")
        self.assertEqual(len(b64.data), 1)
        for x, y in zip(b64.data[0].embedding, floats.data[0].embedding):
            self.assertAlmostEqual(x, y, places=6)

    def test_models_follow_the_tenant(self):
        ids = sorted(m.id for m in client().models.list())
        self.assertEqual(ids, sorted([DECODER, ENCODER]))
        self.assertEqual(client().models.retrieve(DECODER).id, DECODER)
        self.assertEqual([m.id for m in client(KEY_B).models.list()], [ENCODER])

    def test_errors_map_to_the_client_exceptions(self):
        import openai
        c = client()
        msgs = [{"role": "user", "content": "hi"}]
        with self.assertRaises(openai.BadRequestError) as e:
            c.chat.completions.create(model=DECODER, messages=msgs, n=2)
        self.assertEqual(e.exception.body["param"], "n")
        with self.assertRaises(openai.BadRequestError):
            c.chat.completions.create(model=DECODER, messages=msgs, max_tokens=10**6)
        with self.assertRaises(openai.AuthenticationError):
            client("sk-wrong").chat.completions.create(model=DECODER, messages=msgs)
        status, _ = self.server.get("/v1/models")  # no key at all (the client insists on one)
        self.assertEqual(status, 401)
        with self.assertRaises(openai.NotFoundError):
            c.chat.completions.create(model="no-such-model", messages=msgs)
        with self.assertRaises(openai.NotFoundError):  # tenant b may not use the decoder
            client(KEY_B).chat.completions.create(model=DECODER, messages=msgs)
        with self.assertRaises(openai.APIStatusError) as e:
            c.chat.completions.create(model=DECODER, messages=[{"role": "user", "content": "x" * (5 << 20)}])
        self.assertEqual(e.exception.status_code, 413)
        limited = client(KEY_SLOW)
        limited.embeddings.create(model=ENCODER, input="one")
        with self.assertRaises(openai.RateLimitError) as e:
            limited.embeddings.create(model=ENCODER, input="two")
        self.assertGreaterEqual(int(e.exception.response.headers["retry-after"]), 1)
        self.assertEqual(e.exception.body["type"], "rate_limit_error")

    def test_a_client_that_hangs_up_cancels_its_generation(self):
        before = self.server.metric("plinth_requests_total", status="499")
        c = client()
        stream = c.chat.completions.create(model=DECODER, messages=[{"role": "user", "content": "Tell a long story."}],
                                           max_tokens=2000, temperature=0, stream=True)
        got = 0
        for chunk in stream:
            got += 1
            if got == 3:
                break
        stream.close()
        give_up = time.monotonic() + 20
        while self.server.metric("plinth_requests_total", status="499") <= before and time.monotonic() < give_up:
            time.sleep(0.1)
        self.assertGreater(self.server.metric("plinth_requests_total", status="499"), before)

    def test_health_ready_metrics(self):
        self.assertEqual(self.server.get("/health")[0], 200)
        self.assertEqual(self.server.get("/ready"), (200, '{"status":"ready"}'))
        status, text = self.server.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("plinth_requests_total", text)


class EngineFailureTest(unittest.TestCase):
    """A lost device: the request on it fails (500), then the replica is down and requests get 503."""

    def test_lost_device_gives_500_then_503(self):
        import openai
        env = {"PLINTH_FAULT": "device_lost:2000@cpu:0"}
        with Server(PLINTH, ["--no-embeddings"], env=env) as server:
            server.wait_ready()
            c = client(server=server)
            msgs = [{"role": "user", "content": "Tell a long story about a dragon."}]
            with self.assertRaises(openai.InternalServerError) as first:
                c.chat.completions.create(model=DECODER, messages=msgs, max_tokens=200, temperature=0)
            self.assertEqual(first.exception.status_code, 500)
            with self.assertRaises(openai.InternalServerError) as second:
                c.chat.completions.create(model=DECODER, messages=msgs, max_tokens=5)
            self.assertEqual(second.exception.status_code, 503)
            self.assertIn("retry-after", second.exception.response.headers)
            self.assertEqual(server.stop(), 0)


class DrainTest(unittest.TestCase):
    """SIGTERM: the stream in flight finishes whole, then the server exits 0."""

    def test_sigterm_lets_the_stream_finish(self):
        with Server(PLINTH, ["--no-embeddings", "--drain-timeout", "60"]) as server:
            server.wait_ready()
            c = client(server=server)
            tokens, finish = [], []
            started = threading.Event()

            def consume():
                for chunk in c.chat.completions.create(model=DECODER, messages=[{"role": "user", "content": "Hi"}],
                                                       max_tokens=48, temperature=0, stream=True,
                                                       stream_options={"include_usage": True}):
                    if chunk.usage:
                        tokens.append(chunk.usage.completion_tokens)
                    for ch in chunk.choices:
                        if ch.delta.content:
                            started.set()
                        if ch.finish_reason:
                            finish.append(ch.finish_reason)

            t = threading.Thread(target=consume)
            t.start()
            self.assertTrue(started.wait(60))
            code = server.stop()
            t.join(60)
            self.assertEqual(code, 0)
            self.assertEqual(len(finish), 1)
            self.assertTrue(tokens and tokens[0] >= 1)
            self.assertTrue(any("draining" in line for line in server.log), server.log)

    def test_sigterm_cancels_what_outlives_the_grace_period(self):
        with Server(PLINTH, ["--no-embeddings", "--drain-timeout", "1"]) as server:
            server.wait_ready()
            c = client(server=server)
            got, ended = [], threading.Event()
            started = threading.Event()

            def consume():
                try:
                    for chunk in c.chat.completions.create(
                            model=DECODER, messages=[{"role": "user", "content": "Tell a very long story."}],
                            max_tokens=4000, temperature=0, stream=True, extra_body={"ignore_eos": True}):
                        for ch in chunk.choices:
                            if ch.delta.content:
                                got.append(ch.delta.content)
                                started.set()
                except Exception:  # the stream is cut short: that is the point
                    pass
                ended.set()

            t = threading.Thread(target=consume)
            t.start()
            self.assertTrue(started.wait(60))
            began = time.monotonic()
            code = server.stop()
            self.assertEqual(code, 0)
            self.assertLess(time.monotonic() - began, 15)
            self.assertTrue(ended.wait(30))
            t.join(30)
            self.assertLess(len(got), 4000)
            self.assertTrue(any("cancelling" in line for line in server.log), server.log)


def main():
    global PLINTH
    PLINTH = sys.argv.pop(1)
    required = os.environ.get("PLINTH_REQUIRE_MODELS") == "1"
    try:
        import openai  # noqa: F401
    except ImportError:
        print("SKIP: the openai client is not installed (tools/bootstrap.sh testdeps)")
        sys.exit(1 if required else SKIP)
    listed = json.loads(subprocess.run([PLINTH, "models", "--json"], capture_output=True, text=True, check=True).stdout)
    have = {m["name"] for m in listed["models"] if m["status"] == "verified"}
    if not {DECODER, ENCODER} <= have:
        print("SKIP: the default models are not installed (tools/bootstrap.sh models)")
        sys.exit(1 if required else SKIP)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
