#!/usr/bin/env python3
"""Mutation fuzzing of the release binaries, with canary secrets. Not run by CI: a full run
takes about half an hour on two cores. Run it by hand after changing a loader, the generator,
the recorder or the mock:

    cargo build --release -p codegen --features cli -p conformance
    python3 .ci/fuzz.py --out /tmp/fuzz            # about 8,200 executions
    python3 .ci/fuzz.py --out /tmp/fuzz --scale 0.1  # a quick look

Targets (each an execution of a binary, or one connection to the mock):
- specs: mutated OpenAPI documents (the project's specs in 3.0 and 3.1, the codegen fixtures and hard cases)
  through `codegen generate` and `conformance lint`; every distinct generated module is then
  compiled (`cargo check`, one crate per module, warnings counted);
- recordings: mutated shipped recordings through `conformance replay` (embedded mock);
- har: mutated HAR files (the fixture, and HARs built from the recordings) through
  `conformance import-har`, some with canary secrets placed where the issue list found leaks;
- tcp: mutated raw HTTP/1.1 requests at a running `conformance mock`, which must stay up;
- record: sessions through `conformance record` in front of the mock with canary secrets in
  headers, query, JSON, form and multipart bodies, echoed back by the mock where it echoes.

A finding is: a panic, an exit status outside the documented ones (0, 1, 2), a run longer
than the time limit (a hang), an error positioned at 0:0 or called internal, a generated module
that does not compile or warns, a mock that stops answering, or a canary found in any file
written or any line printed. Each finding's input is kept under OUT/findings/. Python 3.9+ and
PyYAML only.
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CODEGEN = ROOT / "target/release/codegen"
CONFORMANCE = ROOT / "target/release/conformance"
TIME_LIMIT = 20.0

# Base counts at --scale 1 (executions: specs count twice, generate and lint).
COUNTS = {"specs": 1400, "recordings": 1100, "har": 2600, "tcp": 1500, "record": 40}

# Names a secret hides under, in the spellings the recorder must catch.
SECRET_HEADERS = ["X-Auth-Key", "Ocp-Apim-Subscription-Key", "X-API_KEY", "Authentication",
                  "X-Api-Key", "Authorization", "Proxy-Authorization", "X-Access-Token",
                  "X-Client-Secret", "Cookie", "X-Session-Token", "Api-Key"]
SECRET_QUERY = ["token", "api-key", "key", "X-Amz-Signature", "access_token", "apiKey",
                "client_secret", "password", "sig", "signature"]
SECRET_FIELDS = ["cardNumber", "secretKey", "new_password", "token", "card_number", "cvc",
                 "password", "apiKey", "client-secret", "accessToken", "session_id",
                 "refresh_token", "Secret", "PIN", "cvv"]


# The names each API's paths use as identifiers: a JSON property so named is the API's own
# (ReCharge's `checkout.token`) and is kept by design; anywhere else it is a secret.
IDENTIFIERS = {"chargily": {"id"}, "recharge": {"token"}}


def json_secret_field(r, api):
    return r.choice([f for f in SECRET_FIELDS if f.lower() not in IDENTIFIERS[api]])


class Findings:
    def __init__(self, out):
        self.dir = out / "findings"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.items = []

    def add(self, target, kind, detail, data=None, suffix=".txt"):
        n = len(self.items)
        path = None
        if data is not None:
            path = self.dir / f"{n:04d}-{target}-{kind}{suffix}"
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
        self.items.append((target, kind, detail[:400], path))
        print(f"  FINDING {target}/{kind}: {detail[:200]} ({path})", flush=True)


def run(args, timeout=TIME_LIMIT, cwd=None):
    """(returncode or 'timeout', stdout, stderr, seconds)."""
    t = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = "timeout"
    return rc, out, err, time.monotonic() - t


def verdict(rc, err, allowed):
    """The finding kind of one run, or None."""
    if rc == "timeout":
        return "hang"
    if b"panicked" in err or b"RUST_BACKTRACE" in err:
        return "panic"
    if rc not in allowed:
        return f"exit-{rc}"
    text = err.decode("utf-8", "replace")
    if re.search(r":0:0\b", text):
        return "position-0:0"
    if re.search(r"\binternal\b", text, re.I):
        return "internal-error"
    return None


# ---------------------------------------------------------------- value mutation

WEIRD_STRINGS = ["", " ", "\r", "a\rb", "line\r\nline", "\x00", "nul\x00inside", "\x0b\x0c\x1b",
                 "*/ /*", '"#', "\\", "`code`", "\u2028\u2029", "é ü 日本", "\ud7ff", "x" * 5000,
                 "{}", "#/", "$ref", "r#type", "Self", "self", "crate", "super", "type",
                 "Option", "Result", "String", "Vec", "Box", "support", "serde", "_", "__",
                 "1abc", "-", "a-b", "a.b", "a/b", "a~b", "A", "a", "aB", "a_b", "AB"]
WEIRD_VALUES = [None, True, False, 0, -1, 1.5, 2 ** 70, -9223372036854776000, 10 ** 400 // 10 ** 100,
                1e308, [], {}, [None], {"": None}, {"1": 2}]
TYPES = ["string", "integer", "number", "boolean", "object", "array", "null", "file", "",
         ["string", "null"], 7]


def random_schema(rng, depth=0):
    roll = rng.random()
    if depth > 3 or roll < 0.25:
        return {"type": rng.choice(TYPES)}
    if roll < 0.35:
        return {"$ref": rng.choice(["#/components/schemas/A", "#/components/schemas/Missing",
                                    "#/", "#", "other.yaml#/X", "https://example.com/x.json",
                                    "#/components/schemas/A/properties/x", "#/paths"])}
    if roll < 0.5:
        key = rng.choice(["anyOf", "oneOf", "allOf"])
        return {key: [random_schema(rng, depth + 1) for _ in range(rng.randint(0, 4))]}
    if roll < 0.6:
        return {"type": "string", "enum": [rng.choice(WEIRD_STRINGS + [None, 1])
                                           for _ in range(rng.randint(0, 5))]}
    if roll < 0.7:
        return {"type": "string", "x-extensible-enum": rng.choice([["a", "b"], [], [1], "a", None])}
    if roll < 0.8:
        props = {rng.choice(WEIRD_STRINGS): random_schema(rng, depth + 1)
                 for _ in range(rng.randint(0, 4))}
        return {"type": "object", "properties": props,
                "required": list(props)[: rng.randint(0, len(props))],
                "additionalProperties": rng.choice([True, False, {}, random_schema(rng, depth + 1)])}
    if roll < 0.9:
        return {"type": "array", "items": random_schema(rng, depth + 1),
                "nullable": rng.choice([True, False, None])}
    return {"discriminator": {"propertyName": rng.choice(["kind", "", 1]),
                              "mapping": {"a": rng.choice(["#/components/schemas/A", "A", 7])}},
            "oneOf": [random_schema(rng, depth + 1) for _ in range(2)]}


def deep(rng):
    n = rng.choice([40, 90, 200, 1000])
    key = rng.choice(["additionalProperties", "items", "not", "allOf"])
    node = {"type": "string"}
    for _ in range(n):
        if key == "allOf":
            node = {"allOf": [node]}
        elif key == "items":
            node = {"type": "array", "items": node}
        elif key == "not":
            node = {"not": node}
        else:
            node = {"type": "object", "additionalProperties": node}
    return node


def paths_of(node, limit=4000):
    """Every (container, key) in the tree, up to `limit`."""
    out, stack = [], [node]
    while stack and len(out) < limit:
        n = stack.pop()
        items = n.items() if isinstance(n, dict) else enumerate(n) if isinstance(n, list) else []
        for k, v in list(items):
            out.append((n, k))
            if isinstance(v, (dict, list)):
                stack.append(v)
    return out


def mutate_tree(rng, doc, schemaish):
    places = paths_of(doc)
    if not places:
        return doc
    for _ in range(rng.randint(1, 3)):
        container, key = rng.choice(places)
        roll = rng.random()
        try:
            if roll < 0.2:
                container[key] = rng.choice(WEIRD_VALUES + WEIRD_STRINGS)
            elif roll < 0.3 and isinstance(container, dict):
                del container[key]
            elif roll < 0.4 and isinstance(container, list):
                container.insert(rng.randrange(len(container) + 1), container[key])
            elif roll < 0.5 and isinstance(container, dict):
                container[rng.choice(WEIRD_STRINGS)] = container[key]
            elif roll < 0.65 and schemaish:
                container[key] = random_schema(rng)
            elif roll < 0.7 and schemaish:
                container[key] = deep(rng)
            elif roll < 0.8 and isinstance(container[key], str):
                s = container[key]
                i = rng.randrange(len(s) + 1)
                container[key] = s[:i] + rng.choice(WEIRD_STRINGS) + s[i:]
            elif roll < 0.85 and isinstance(container, dict):
                container["x-" + rng.choice(["ext", "a", "1"])] = {1: [None, {2: 3}], "k": 2 ** 80}
            elif roll < 0.9 and isinstance(container[key], (int, float)) \
                    and not isinstance(container[key], bool):
                container[key] = rng.choice([0, -1, 2 ** 32, 2 ** 64, 2 ** 70, -(2 ** 63) - 1,
                                             4294967295, 10 ** 30, 0.5, -0.0])
            elif isinstance(container, dict):
                container[key] = rng.choice([container[key], [container[key]],
                                             {"k": container[key]}])
        except (IndexError, KeyError, TypeError, ValueError):
            pass
    return doc


SCHEMA_KEYS = ("type", "properties", "$ref", "allOf", "oneOf", "anyOf", "items", "enum")


def mutate_schemas(rng, doc):
    """Changes that keep the document readable and reach the generator: schemas replaced or
    extended with odd names, odd text, odd enums, unions and deep nesting."""
    nodes = [(n, k) for n, k in paths_of(doc, 20000)
             if isinstance(n.get(k) if isinstance(n, dict) else None, dict)
             and any(x in n[k] for x in SCHEMA_KEYS)]
    if not nodes:
        return doc
    for _ in range(rng.randint(1, 4)):
        parent, key = rng.choice(nodes)
        node = parent[key]
        roll = rng.random()
        if roll < 0.25:
            parent[key] = random_schema(rng)
        elif roll < 0.45:
            props = node.setdefault("properties", {}) if isinstance(node.get("properties", {}), dict) \
                else {}
            props[rng.choice(WEIRD_STRINGS)] = random_schema(rng)
            if rng.random() < 0.5:
                node["required"] = list(props)
        elif roll < 0.6:
            node[rng.choice(["description", "title"])] = rng.choice(WEIRD_STRINGS) + \
                rng.choice(WEIRD_STRINGS)
        elif roll < 0.7:
            node["enum"] = [rng.choice(WEIRD_STRINGS + [None, 1, -1, 2 ** 40])
                            for _ in range(rng.randint(1, 6))]
        elif roll < 0.8:
            node["nullable"] = True
            node[rng.choice(["default", "example"])] = rng.choice(WEIRD_VALUES + WEIRD_STRINGS)
        elif roll < 0.9:
            parent[key] = deep(rng)
        else:
            parent[key] = {rng.choice(["anyOf", "oneOf", "allOf"]): [node, random_schema(rng),
                                                                     {"type": "null"}]}
    return doc


def mutate_text(rng, text):
    b = bytearray(text)
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        i = rng.randrange(len(b) + 1)
        if roll < 0.15 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif roll < 0.25:
            b[i:i] = b"[" * rng.choice([64, 1000, 100000])
        elif roll < 0.35:
            b[i:i] = rng.choice([b"\r", b"\x00", b"\t", b"\xef\xbb\xbf", b"\xff\xfe", b"\r\n",
                                 b"\n---\n", b"%YAML 1.1\n", b"\x1b[31m", b"\\u0000"])
        elif roll < 0.45:
            b = b[:i]
        elif roll < 0.55 and b:
            j = min(len(b), i + rng.randrange(1, 400))
            b[i:i] = b[i:j] * rng.randint(1, 4)
        elif roll < 0.6:
            bomb = b"a: &a [x, x]\n" + b"".join(
                b"%c: &%c [*%c, *%c, *%c, *%c]\n" % (98 + k, 98 + k, 97 + k, 97 + k, 97 + k, 97 + k)
                for k in range(9))
            b = bytearray(bomb) + b
        elif roll < 0.7:
            b[i:i] = b"99999999999999999999999999999"
        elif roll < 0.8 and b:
            j = min(len(b), i + rng.randrange(1, 200))
            del b[i:j]
        else:
            b[i:i] = rng.choice([b"{", b"}", b"]", b":", b"- ", b"'", b'"', b"&x ", b"*x", b"!!binary ",
                                 b"!!python/object ", b"? ", b"|", b">"])
    return bytes(b)


def dump(rng, doc, prefer_json):
    if not prefer_json and rng.random() >= 0.3:
        try:
            return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode(), ".yaml"
        except RecursionError:
            pass  # too deep for PyYAML's emitter: JSON then
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode(), ".json"


def load_yaml(path):
    with open(path, "rb") as f:
        return yaml.safe_load(f)


def plain(node):
    """YAML's dates and the like as strings: a JSON-shaped tree."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (str, int)) else k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, (str, int, float, bool)) or node is None:
        return node
    return str(node)


# ---------------------------------------------------------------- specs

def fuzz_specs(rng, n, out, findings, stats, jobs):
    seeds = sorted(ROOT.glob("spec/*.yaml")) + sorted(ROOT.glob("spec/3.1/*.yaml")) \
        + sorted(ROOT.glob("codegen/tests/fixtures/*.yaml")) \
        + sorted(p for p in ROOT.glob("codegen/tests/hard-cases/*") if p.is_file()
                 and p.suffix in (".yaml", ".json"))
    trees = [(p, plain(load_yaml(p))) for p in seeds]
    work = out / "specs"
    work.mkdir(parents=True, exist_ok=True)
    outputs = {}

    def one(i):
        r = random.Random(rng.random() + i)
        seed, tree = r.choice(trees)
        doc = json.loads(json.dumps(tree))
        doc = mutate_schemas(r, doc) if r.random() < 0.6 else mutate_tree(r, doc, True)
        data, ext = dump(r, doc, seed.suffix == ".json")
        if r.random() < 0.15:
            data = mutate_text(r, data)
        path = work / f"s{i}{ext}"
        path.write_bytes(data)
        target = work / f"s{i}.rs"
        res = []
        rc, _, err, secs = run([str(CODEGEN), "generate", str(path), "-o", str(target)])
        res.append(("generate", rc, err, secs))
        rc2, _, err2, secs2 = run([str(CONFORMANCE), "lint", str(path)])
        res.append(("lint", rc2, err2, secs2))
        code = target.read_bytes() if rc == 0 and target.exists() else None
        return i, path, data, res, code

    with ThreadPoolExecutor(jobs) as pool:
        for i, path, data, res, code in pool.map(one, range(n)):
            for tool, rc, err, secs in res:
                stats.count(f"specs/{tool}", rc, secs)
                kind = verdict(rc, err, {0, 2} if tool == "generate" else {0, 1, 2})
                if kind:
                    findings.add("specs", f"{tool}-{kind}", err.decode("utf-8", "replace")[-300:],
                                 data, path.suffix)
            if code is not None:
                outputs.setdefault(hashlib.sha256(code).hexdigest(), (path, code))
            path.unlink(missing_ok=True)
            (work / f"s{i}.rs").unlink(missing_ok=True)
    return outputs


def compile_outputs(outputs, out, findings, stats):
    """`cargo check` of every distinct generated module, one crate each (as codegen's corpus
    test does); errors and warnings are findings."""
    root = out / "compile"
    if root.exists():
        shutil.rmtree(root / "crates", ignore_errors=True)
    (root / "crates").mkdir(parents=True, exist_ok=True)
    manifest = (ROOT / "Cargo.toml").read_text()
    deps = "".join(line + "\n" for line in manifest.splitlines()
                   if line.split("=")[0].strip() in ("serde", "serde_json", "serde_path_to_error"))
    names = []
    for k, (spec, code) in enumerate(outputs.values()):
        name = f"m{k}"
        names.append((name, spec, code))
        d = root / "crates" / name
        (d / "src").mkdir(parents=True)
        (d / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n'
            "[dependencies]\nserde.workspace = true\nserde_json.workspace = true\n"
            "serde_path_to_error.workspace = true\n")
        (d / "src/lib.rs").write_text("#[rustfmt::skip]\n#[allow(deprecated, clippy::all, "
                                      "clippy::pedantic, rustdoc::all)]\npub mod api;\n")
        (d / "src/api.rs").write_bytes(code)
    members = ", ".join(f'"crates/{n}"' for n, _, _ in names)
    (root / "Cargo.toml").write_text(f'[workspace]\nresolver = "3"\nmembers = [{members}]\n\n'
                                     f"[workspace.dependencies]\n{deps}")
    shutil.copy(ROOT / "Cargo.lock", root / "Cargo.lock")
    t = time.monotonic()
    p = subprocess.run(["cargo", "check", "--offline", "--workspace", "--lib", "--keep-going",
                        "--message-format", "json"], cwd=root, capture_output=True,
                       env={**os.environ, "CARGO_TARGET_DIR": str(out / "compile-target")})
    secs = time.monotonic() - t
    bad = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") != "compiler-message":
            continue
        m = msg["message"]
        if m["level"] in ("error", "warning") and m.get("spans") \
                and not m["rendered"].startswith("error: aborting"):
            bad.setdefault(msg["target"]["name"], []).append(m["rendered"])
    for name, spec, code in names:
        if name in bad:
            findings.add("specs", "compile", bad[name][0], code, ".rs")
    if p.returncode != 0 and not bad:
        findings.add("specs", "compile-unattributed", p.stderr.decode("utf-8", "replace")[-400:])
    stats.extra["compiled modules"] = len(names)
    stats.extra["modules with errors or warnings"] = len(bad)
    stats.extra["cargo check seconds"] = round(secs, 1)


# ---------------------------------------------------------------- recordings

def fuzz_recordings(rng, n, out, findings, stats, jobs):
    seeds = sorted(ROOT.glob("conformance/recordings/*/*.yaml"))
    trees = [(p, p.parent.name, load_yaml(p)) for p in seeds]
    work = out / "recordings"
    work.mkdir(parents=True, exist_ok=True)

    def one(i):
        r = random.Random(rng.random() + i)
        seed, api, tree = r.choice(trees)
        doc = json.loads(json.dumps(plain(tree)))
        roll = r.random()
        if roll < 0.1 and doc.get("exchanges"):
            ex = r.choice(doc["exchanges"])
            ex["repeat"] = {"until_status": r.choice([418, 200, "x", None]),
                            "max": r.choice([4294967295, 2 ** 64, -1, 0, 1000000, "9"])}
        elif roll < 0.2 and doc.get("exchanges"):
            ex = r.choice(doc["exchanges"])
            ex["request"]["path"] = r.choice(["/" + "a" * 70000, "/../../etc/passwd", "//x",
                                              "/checkouts/%00", "/checkouts/{id}", "", "?"])
        else:
            doc = mutate_tree(r, doc, False)
        data, ext = dump(r, doc, False)
        if r.random() < 0.3:
            data = mutate_text(r, data)
        d = work / f"r{i}"
        d.mkdir(exist_ok=True)
        (d / f"{seed.stem}.yaml").write_bytes(data)
        rc, _, err, secs = run([str(CONFORMANCE), "replay", "--recordings", str(d), "--api", api,
                                "--timeout-ms", "3000", "--exchange-budget-ms", "8000",
                                "--jobs", "2"], timeout=60)
        shutil.rmtree(d, ignore_errors=True)
        return data, rc, err, secs

    with ThreadPoolExecutor(jobs) as pool:
        for data, rc, err, secs in pool.map(one, range(n)):
            stats.count("recordings/replay", rc, secs)
            kind = verdict(rc, err, {0, 1, 2})
            if kind:
                findings.add("recordings", kind, err.decode("utf-8", "replace")[-300:], data,
                             ".yaml")


# ---------------------------------------------------------------- HAR

def har_from_recording(tree, api):
    base = {"chargily": "https://pay.chargily.net/test/api/v2",
            "recharge": "https://api.rechargeapps.com"}[api]
    entries = []
    for k, ex in enumerate(tree.get("exchanges") or []):
        req, resp = ex.get("request") or {}, ex.get("response") or {}
        headers = [{"name": "content-type", "value": "application/json"}]
        if api == "chargily":
            headers.append({"name": "authorization", "value": "Bearer test_sk_x"})
        else:
            headers.append({"name": "x-recharge-access-token", "value": "tok"})
            headers.append({"name": "x-recharge-version", "value": "2021-01"})
        body = req.get("json")
        entry = {
            "startedDateTime": f"2024-05-01T10:00:{k % 60:02d}.000Z", "time": 10,
            "request": {"method": req.get("method", "GET"),
                        "url": base + str(req.get("path", "/")) +
                        (("?" + req["query"]) if req.get("query") else ""),
                        "httpVersion": "HTTP/1.1", "headers": headers, "queryString": [],
                        "cookies": [], "headersSize": -1, "bodySize": -1},
            "response": {"status": resp.get("status", 200), "statusText": "",
                         "httpVersion": "HTTP/1.1",
                         "headers": [{"name": "content-type", "value": "application/json"}],
                         "cookies": [], "content": {"size": -1, "mimeType": "application/json",
                                                    "text": json.dumps(resp.get("json"))},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 0}}
        if body is not None:
            entry["request"]["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
        entries.append(entry)
    return {"log": {"version": "1.2", "creator": {"name": "fuzz", "version": "1"},
                    "entries": entries}}


def place_canaries(r, har, tag, api):
    """Canaries in header, query, JSON, form and multipart positions of a HAR; returns them."""
    canaries = []

    def canary(where):
        c = f"cnry{len(canaries)}{tag}"
        canaries.append((where, c))
        return c

    for entry in har["log"]["entries"][: 6]:
        req, resp = entry["request"], entry["response"]
        name = r.choice(SECRET_HEADERS)
        name = r.choice([name, name.lower(), name.upper()])
        req["headers"].append({"name": name, "value": canary(f"request header {name}")})
        q = r.choice(SECRET_QUERY)
        sep = "&" if "?" in req["url"] else "?"
        req["url"] += f"{sep}{q}={canary(f'query {q}')}"
        f = r.choice(SECRET_FIELDS)
        where = r.random()
        if where < 0.5:
            f = json_secret_field(r, api)
            try:
                body = json.loads(req.get("postData", {}).get("text") or "{}")
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                body = {}
            body.setdefault("metadata", {})
            nested = r.choice([body, body["metadata"] if isinstance(body["metadata"], dict)
                               else body])
            nested[f] = canary(f"JSON field {f}")
            req["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
        elif where < 0.75:
            req["postData"] = {"mimeType": "application/x-www-form-urlencoded",
                               "text": f"card[number]={canary('form card[number]')}&{f}="
                                       f"{canary('form ' + f)}"}
        else:
            req["postData"] = {"mimeType": "multipart/form-data; boundary=XyZ",
                               "text": f"--XyZ\r\nContent-Disposition: form-data; name=\"{f}\"\r\n"
                                       f"\r\n{canary('multipart ' + f)}\r\n--XyZ--\r\n"}
        rf = json_secret_field(r, api)
        try:
            body = json.loads(resp["content"].get("text") or "{}")
        except ValueError:
            body = {}
        if isinstance(body, dict):
            body[rf] = canary(f"response field {rf}")
            resp["content"]["text"] = json.dumps(body)
        resp["headers"].append({"name": "Location",
                                "value": f"https://x.example/reset?code={canary('Location code')}"})
    return canaries


def scan(canaries, blobs):
    leaks = []
    for where, c in canaries:
        for name, blob in blobs:
            if c.encode() in blob:
                leaks.append(f"{where} canary in {name}")
    return leaks


def fuzz_har(rng, n, out, findings, stats, jobs):
    seeds = [(json.loads((ROOT / "conformance/tests/fixtures/har/chargily-devtools.har").read_text()),
              "chargily")]
    for p in sorted(ROOT.glob("conformance/recordings/*/*.yaml")):
        seeds.append((har_from_recording(plain(load_yaml(p)), p.parent.name), p.parent.name))
    work = out / "har"
    work.mkdir(parents=True, exist_ok=True)

    def one(i):
        r = random.Random(rng.random() + i)
        har, api = r.choice(seeds)
        har = json.loads(json.dumps(har))
        canaries = []
        with_canaries = r.random() < 0.2
        if with_canaries:
            canaries = place_canaries(r, har, f"{i}x{r.randrange(10 ** 6)}", api)
        else:
            har = mutate_tree(r, har, False)
        data = json.dumps(har).encode()
        if not with_canaries and r.random() < 0.3:
            data = mutate_text(r, data)
        d = work / f"h{i}"
        d.mkdir(exist_ok=True)
        path = d / "in.har"
        path.write_bytes(data)
        rc, so, err, secs = run([str(CONFORMANCE), "import-har", str(path), "--api", api,
                                 "--out", str(d / "out.yaml")], timeout=TIME_LIMIT)
        leaks = []
        if canaries:
            blobs = [("stdout", so), ("stderr", err)]
            blobs += [(p.name, p.read_bytes()) for p in d.iterdir() if p.name != "in.har"]
            leaks = scan(canaries, blobs)
            wrote = (d / "out.yaml").exists()
        else:
            wrote = None
        shutil.rmtree(d, ignore_errors=True)
        return data, rc, err, secs, leaks, wrote

    with ThreadPoolExecutor(jobs) as pool:
        for data, rc, err, secs, leaks, wrote in pool.map(one, range(n)):
            stats.count("har/import-har", rc, secs)
            kind = verdict(rc, err, {0, 2})
            if kind:
                findings.add("har", kind, err.decode("utf-8", "replace")[-300:], data, ".har")
            if wrote is not None:
                stats.extra["har canary runs"] = stats.extra.get("har canary runs", 0) + 1
                if wrote:
                    stats.extra["har canary runs that wrote a recording"] = \
                        stats.extra.get("har canary runs that wrote a recording", 0) + 1
            for leak in leaks:
                findings.add("har", "leak", leak, data, ".har")


# ---------------------------------------------------------------- mock over raw TCP

class Server:
    """A binary that prints its base URL(s) on stdout, then serves until SIGINT."""

    def __init__(self, args):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        self.lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.p.stdout.readline().decode()
            if not line:
                break
            self.lines.append(line)
            if re.search(r"http://127\.0\.0\.1:\d+", line) and len(self.lines) >= 1:
                break
        m = re.search(r"127\.0\.0\.1:(\d+)", "".join(self.lines))
        if not m:
            self.p.kill()
            raise RuntimeError(f"{args[1]} printed no address: {self.lines} "
                               f"{self.p.stderr.read().decode()[:500]}")
        self.port = int(m.group(1))

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
        out = b"".join(l.encode() for l in self.lines) + self.p.stdout.read()
        return self.p.returncode, out, self.p.stderr.read()


def exchange(port, data, timeout=5.0, half_close=True):
    """Sends bytes, reads until close or timeout; (bytes, seconds). `half_close` ends the
    sending side first (raw fuzzing); a well-formed request keeps it open, as clients do (hyper
    drops a request whose client half-closed)."""
    t = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, ConnectionError, OSError):
        pass
    finally:
        s.close()
    return got, time.monotonic() - t


SEED_REQUESTS = [
    b"GET /chargily/test/api/v2/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test_sk_conformance\r\n\r\n",
    b"POST /chargily/test/api/v2/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test_sk_conformance\r\n"
    b"Content-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"name\":\"a\",\"metadata\":[{\"k\":\"v\"}]}",
    b"POST /chargily/test/api/v2/checkouts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test_sk_conformance\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2d\r\n{\"amount\":2000,\"currency\":\"dzd\",\"success_url\":\"\r\n15\r\nhttps://m.example/ok\"}\r\n0\r\n\r\n",
    b"POST /recharge/checkouts HTTP/1.1\r\nHost: x\r\nX-Recharge-Access-Token: conformance\r\n"
    b"X-Recharge-Version: 2021-01\r\nContent-Type: application/json\r\nContent-Length: 76\r\n\r\n"
    b"{\"line_items\":[{\"variant_id\":1,\"quantity\":1,\"price\":\"5.00\",\"title\":\"Mug\"}]}",
    b"GET /recharge/checkouts/abc?x=%ZZ HTTP/1.1\r\nHost: x\r\nX-Recharge-Access-Token: conformance\r\n\r\n",
    b"POST /_mock/chargily/checkouts/x/pay HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    b"GET /chargily/test/api/v2/checkouts?per_page=99999999999999999999&page=-1 HTTP/1.1\r\n"
    b"Host: x\r\nAuthorization: Bearer test_sk_conformance\r\n\r\n",
]


def fuzz_tcp(rng, n, out, findings, stats, jobs):
    mock = Server([str(CONFORMANCE), "mock", "--listen", "127.0.0.1:0", "--no-rate-limit",
                   "--read-timeout-ms", "2000"])
    health = SEED_REQUESTS[0]

    def one(i):
        r = random.Random(rng.random() + i)
        data = mutate_text(r, r.choice(SEED_REQUESTS)) if r.random() < 0.9 else \
            bytes(r.randrange(256) for _ in range(r.randrange(1, 3000)))
        got, secs = exchange(mock.port, data, timeout=8.0)
        return data, got, secs

    try:
        with ThreadPoolExecutor(jobs) as pool:
            for k, (data, got, secs) in enumerate(pool.map(one, range(n))):
                stats.count("tcp/mock", 0 if got else "no-answer", secs)
                if secs > 7.5:
                    findings.add("tcp", "slow", f"{secs:.1f}s without close", data, ".bin")
                if k % 50 == 49 or not mock.alive():
                    ok, _ = exchange(mock.port, health, timeout=3.0)
                    if not ok.startswith(b"HTTP/1.1 200") or not mock.alive():
                        findings.add("tcp", "mock-down", f"after input {k}", data, ".bin")
                        break
    finally:
        rc, _, err = mock.stop()
        if b"panicked" in err:
            findings.add("tcp", "panic", err.decode("utf-8", "replace")[-400:])
        stats.extra["mock exit on SIGINT"] = rc


# ---------------------------------------------------------------- record with canaries

def http(port, method, path, headers, body):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(body)}\r\n\r\n"
    got, _ = exchange(port, head.encode() + body, timeout=10.0, half_close=False)
    return got


def fuzz_record(rng, n, out, findings, stats):
    mock = Server([str(CONFORMANCE), "mock", "--listen", "127.0.0.1:0", "--no-rate-limit"])
    work = out / "record"
    work.mkdir(parents=True, exist_ok=True)
    try:
        for i in range(n):
            r = random.Random(rng.random() + i)
            api = r.choice(["chargily", "recharge"])
            upstream = f"http://127.0.0.1:{mock.port}" + \
                ("/chargily/test/api/v2" if api == "chargily" else "/recharge")
            d = work / f"c{i}"
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
            proxy = Server([str(CONFORMANCE), "record", "--api", api, "--upstream", upstream,
                            "--listen", "127.0.0.1:0", "--out", str(d / "rec.yaml")])
            canaries = []

            def canary(where):
                c = f"cnry{len(canaries)}r{i}x{r.randrange(10 ** 6)}"
                canaries.append((where, c))
                return c

            auth = [("Authorization", "Bearer test_sk_conformance")] if api == "chargily" else \
                [("X-Recharge-Access-Token", "conformance"), ("X-Recharge-Version", "2021-01")]
            paths = {"chargily": [("POST", "/customers"), ("POST", "/products"),
                                  ("GET", "/balance"), ("POST", "/checkouts"),
                                  ("GET", "/nowhere"), ("PATCH", "/customers/nope")],
                     "recharge": [("POST", "/checkouts"), ("GET", "/checkouts/nope"),
                                  ("PUT", "/checkouts/nope"), ("GET", "/nowhere")]}[api]
            sent = 0
            for _ in range(15):
                method, path = r.choice(paths)
                headers = list(auth)
                for _ in range(r.randint(1, 3)):
                    name = r.choice(SECRET_HEADERS)
                    name = r.choice([name, name.lower(), name.upper()])
                    if name.lower() in ("authorization", "x-recharge-access-token"):
                        continue
                    headers.append((name, canary(f"header {name}")))
                q = r.choice(SECRET_QUERY)
                path += f"?{q}={canary('query ' + q)}&page=1"
                field = r.choice(SECRET_FIELDS)
                kind = r.random()
                if kind < 0.6:
                    field = json_secret_field(r, api)
                    body = {"name": "n", "metadata": {field: canary(f"JSON metadata.{field}")},
                            field: canary(f"JSON {field}"),
                            "card": {"number": canary("JSON card.number")}}
                    if api == "recharge":
                        body = {"line_items": [{"variant_id": 1, "quantity": 1, "price": "5.00",
                                                "title": "Mug", "properties":
                                                    [{"name": field, "value": canary("li prop")}]}],
                                field: canary(f"JSON {field}")}
                    headers.append(("Content-Type", "application/json"))
                    data = json.dumps(body).encode()
                elif kind < 0.8:
                    headers.append(("Content-Type", "application/x-www-form-urlencoded"))
                    data = f"card[number]={canary('form card[number]')}&{field}=" \
                           f"{canary('form ' + field)}".encode()
                else:
                    headers.append(("Content-Type", "multipart/form-data; boundary=XyZ"))
                    data = (f"--XyZ\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n"
                            f"{canary('multipart ' + field)}\r\n--XyZ--\r\n").encode()
                if r.random() < 0.15:
                    data = data[: len(data) // 2]  # malformed
                http(proxy.port, method, path, headers, data)
                sent += 1
            rc, so, err = proxy.stop()
            stats.count("record/session", rc, 0)
            stats.extra["record requests with canaries"] = \
                stats.extra.get("record requests with canaries", 0) + sent
            if rc not in (0, 2) or b"panicked" in err:
                findings.add("record", f"exit-{rc}", err.decode("utf-8", "replace")[-300:])
            blobs = [("stdout", so), ("stderr", err)]
            blobs += [(p.name, p.read_bytes()) for p in d.iterdir()]
            if not (d / "rec.yaml").exists():
                findings.add("record", "nothing-written", err.decode("utf-8", "replace")[-300:])
            for leak in scan(canaries, blobs):
                findings.add("record", "leak", leak,
                             (d / "rec.yaml").read_bytes() if (d / "rec.yaml").exists() else b"",
                             ".yaml")
            shutil.rmtree(d, ignore_errors=True)
    finally:
        mock.stop()


# ---------------------------------------------------------------- main

class Stats:
    def __init__(self):
        self.runs = {}
        self.extra = {}

    def count(self, what, rc, secs):
        s = self.runs.setdefault(what, {"runs": 0, "max_s": 0.0, "rc": {}})
        s["runs"] += 1
        s["max_s"] = max(s["max_s"], secs)
        s["rc"][str(rc)] = s["rc"].get(str(rc), 0) + 1


def main():
    # Deeply nested mutants are dumped recursively.
    sys.setrecursionlimit(20000)
    threading.stack_size(256 * 1024 * 1024)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="working folder (findings kept here)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every count")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", choices=sorted(COUNTS), action="append")
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    for b in (CODEGEN, CONFORMANCE):
        if not b.exists():
            sys.exit(f"{b} is missing: cargo build --release -p codegen --features cli -p conformance")
    a.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(a.seed)
    findings, stats = Findings(a.out), Stats()
    counts = {k: max(1, int(v * a.scale)) for k, v in COUNTS.items()
              if not a.only or k in a.only}
    t0 = time.monotonic()
    for target, n in counts.items():
        t = time.monotonic()
        print(f"{target}: {n} inputs", flush=True)
        if target == "specs":
            outputs = fuzz_specs(rng, n, a.out, findings, stats, a.jobs)
            stats.extra["distinct generated modules"] = len(outputs)
            if not a.no_compile:
                compile_outputs(outputs, a.out, findings, stats)
        elif target == "recordings":
            fuzz_recordings(rng, n, a.out, findings, stats, a.jobs)
        elif target == "har":
            fuzz_har(rng, n, a.out, findings, stats, a.jobs)
        elif target == "tcp":
            fuzz_tcp(rng, n, a.out, findings, stats, a.jobs)
        elif target == "record":
            fuzz_record(rng, n, a.out, findings, stats)
        print(f"{target}: done in {time.monotonic() - t:.0f}s", flush=True)
    total = sum(s["runs"] for s in stats.runs.values())
    summary = {"seed": a.seed, "scale": a.scale, "executions": total, "runs": stats.runs,
               "extra": stats.extra, "seconds": round(time.monotonic() - t0),
               "findings": [{"target": t, "kind": k, "detail": d, "input": str(p) if p else None}
                            for t, k, d, p in findings.items]}
    (a.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "findings"}, indent=1))
    kinds = {}
    for t, k, _, _ in findings.items:
        kinds[f"{t}/{k}"] = kinds.get(f"{t}/{k}", 0) + 1
    print(f"executions: {total}; findings: {len(findings.items)} {kinds}")
    sys.exit(1 if findings.items else 0)


if __name__ == "__main__":
    main()
