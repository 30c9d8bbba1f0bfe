#!/usr/bin/python3
"""
compare.py -- lra_cpu against its PyTorch twin (torch_twin.py), side by side in one run.

For every (length, model) it runs `lra_cpu bench` for that one configuration (a fresh child
process, as the bench always does) and then the twin in a fresh Python process with the "tuned"
environment of shared/peer/RESULTS.md (sections 3 and 7), back to back so both see the same load
on a shared machine. It prints and writes a Markdown table: median ms per training step (wall),
median CPU ms per step (all threads; the steadier figure when other work shares the cores),
the speed-ups lra_cpu / torch, and peak RSS of each process.

  /usr/bin/python3 lra/bench/compare.py --preset tiny --lengths 1024,2048,4096 \
      --lra-cpu build/apps/lra_cpu --out compare-tiny.md

Never needed by the build or the tests; needs Debian's python3-torch (apt-get install -y
python3-torch) and a built lra_cpu.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TUNED = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:"
                           "glibc.malloc.trim_threshold=68719476736",
         "OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}
PAPER_NAMES = {"transformer": "softmax", "local": "local", "linformer": "linformer",
               "linear": "linear", "performer": "performer"}


def run_lra(a, model, n, tmp):
    out = os.path.join(tmp, f"{model}-{n}")
    cmd = [a.lra_cpu, "bench", "--preset", a.preset, "--models", model, "--lengths", str(n),
           "--steps", str(a.steps), "--budget", str(a.budget), "--threads", str(a.threads),
           "--out", out]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "bench.json")) as f:
        return json.load(f)["results"][0]


def run_torch(a, model, n):
    env = dict(os.environ, **TUNED)
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_twin.py"), "--attn", model, "--seq-len",
           str(n), "--preset", a.preset, "--steps", str(a.steps), "--budget", str(a.budget),
           "--threads", str(a.threads)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": (p.stderr or "no output").strip().splitlines()[-1:]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="tiny", choices=["tiny", "text"])
    p.add_argument("--models", default="transformer,local,linformer,linear,performer",
                   help="comma-separated lra mechanism names, or all")
    p.add_argument("--lengths", default="1024,2048,4096")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--budget", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lra-cpu", default=os.path.join(HERE, "..", "..", "build", "apps", "lra_cpu"))
    p.add_argument("--out", default="", help="Markdown file to write (and .jsonl next to it)")
    a = p.parse_args()
    models = (["transformer", "local", "sparse", "longformer", "linformer", "reformer", "sinkhorn",
               "synthesizer", "bigbird", "linear", "performer"] if a.models == "all"
              else a.models.split(","))
    lengths = [int(x) for x in a.lengths.split(",")]
    rows, records = [], []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for n in lengths:
            for m in models:
                r = run_lra(a, m, n, tmp)
                t = run_torch(a, m, n)
                records.append({"model": m, "seq_len": n, "lra_cpu": r, "torch": t})
                ok = r.get("status") == "ok" and "median_ms" in t
                sw = t["median_ms"] / r["median_ms"] if ok else float("nan")
                sc = t["cpu_ms"] / r["cpu_ms"] if ok and r.get("cpu_ms") else float("nan")
                rss_l = r.get("rss_peak_bytes", 0) / 1e6
                rows.append((m, n, r.get("median_ms", float("nan")), t.get("median_ms", float("nan")), sw,
                             r.get("cpu_ms", float("nan")), t.get("cpu_ms", float("nan")), sc, rss_l,
                             t.get("peak_rss_mb", float("nan"))))
                print(f"[{time.time() - t0:6.0f}s] {m:11s} N={n:5d} lra {rows[-1][2]:8.1f} ms "
                      f"(cpu {rows[-1][5]:7.1f})  torch {rows[-1][3]:8.1f} ms (cpu {rows[-1][6]:7.1f})  "
                      f"x{sw:.2f} wall, x{sc:.2f} cpu", file=sys.stderr, flush=True)
    cmdline = "/usr/bin/python3 lra/bench/compare.py " + " ".join(sys.argv[1:])
    md = [f"lra_cpu vs PyTorch {records[0]['torch'].get('torch', '?')} twin, preset {a.preset}, "
          f"{a.threads} threads, same run (`{cmdline}`). Medians per training step; speed-up = "
          "torch / lra_cpu.\n",
          "| model | N | lra_cpu ms | torch ms | speed-up (wall) | lra_cpu CPU ms | torch CPU ms | "
          "speed-up (CPU) | lra_cpu RSS MB | torch RSS MB |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        md.append(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.2f}x | {r[5]:.1f} | {r[6]:.1f} | "
                  f"{r[7]:.2f}x | {r[8]:.0f} | {r[9]:.0f} |")
    text = "\n".join(md) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(a.out)[0] + ".jsonl", "w") as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
