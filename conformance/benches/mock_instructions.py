#!/usr/bin/env python3
"""User-space instructions per request of two builds of the mock, counted by callgrind: a
figure that does not move with the machine's load, unlike req/s on a shared 2-core VM.

    python3 conformance/benches/mock_instructions.py BASE_BIN NEW_BIN recharge|chargily get|post N

BASE_BIN and NEW_BIN are `conformance` binaries (release). Each is started under
`valgrind --tool=callgrind --instr-atstart=no` as `mock --workers 1 --no-rate-limit`, warmed
up (200 requests, then 3 s for the validators' warm-up thread), instrumented for N keep-alive
requests of the load example's kind (GET of one checkout, or POST of a new one), and the
collected total divided by N. Kernel time (the sockets) is not counted: it is the same for
both. Needs valgrind and python3.
"""
import glob, http.client, json, os, subprocess, sys, time
bins = {"base": sys.argv[1], "new": sys.argv[2]}
api, phase, n = sys.argv[3], sys.argv[4], int(sys.argv[5])
def conn(port):
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port); c.connect(); return c
        except OSError: time.sleep(0.1)
    raise SystemExit("server did not start")
if api == "recharge":
    prefix, auth = "/recharge", {"X-Recharge-Access-Token": "conformance"}
    body = json.dumps({"line_items":[{"variant_id":3844924611,"quantity":2,"price":"12.50"}],"email":"load@example.test"})
else:
    prefix, auth = "/chargily/test/api/v2", {"Authorization": "Bearer test_sk_conformance"}
    body = json.dumps({"amount":2000,"currency":"dzd","success_url":"https://shop.example.test/ok"})
def req(c, method, path, data=None):
    h = dict(auth)
    if data is not None: h["Content-Type"] = "application/json"
    c.request(method, prefix + path, body=data, headers=h)
    r = c.getresponse(); b = r.read()
    assert r.status == 200, (r.status, b[:200])
    return b
def run(which, port):
    out = f"/tmp/mock-instructions-{which}-{api}-{phase}-{os.getpid()}.out"
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
        bins[which], "mock", "--listen", f"127.0.0.1:{port}", "--no-rate-limit", "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = conn(port)
    created = json.loads(req(c, "POST", "/checkouts", body))
    ident = created["checkout"]["token"] if api == "recharge" else created["id"]
    for _ in range(200):
        req(c, "GET", f"/checkouts/{ident}") if phase == "get" else req(c, "POST", "/checkouts", body)
    time.sleep(3)  # the validators' warm-up thread
    subprocess.run(["callgrind_control", "-i", "on", str(p.pid)], stdout=subprocess.DEVNULL)
    for _ in range(n):
        req(c, "GET", f"/checkouts/{ident}") if phase == "get" else req(c, "POST", "/checkouts", body)
    subprocess.run(["callgrind_control", "-i", "off", str(p.pid)], stdout=subprocess.DEVNULL)
    p.terminate(); p.wait()
    total = 0
    for f in glob.glob(out + "*"):
        for line in open(f):
            if line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
        os.remove(f)
    return total / n
b = run("base", 47601); w = run("new", 47602)
print(f"{api} {phase}: Ir/request base {b:,.0f} new {w:,.0f} ({(w-b)*100/b:+.1f}%)")
