#!/usr/bin/env python3
"""Training-step speed of two lra_cpu binaries, as the `cpu` presets train (dropout 0.1).

`lra_cpu bench --baseline OTHER` times a step without dropout (so does the PyTorch twin);
the presets train with it. This runs the real `lra_cpu train` of both binaries on the same
generated ListOps sets, alternating NEW, OLD, NEW, OLD ... per (model, length), and compares
the steps/s the runs log (metrics.jsonl, one interval per --log-every steps; the first interval
is left out as warm-up). Ratio = median NEW steps/s over median OLD steps/s.

    python3 docs/bench/train_speed.py NEW_LRA_CPU OLD_LRA_CPU OUT_DIR \
        [--models all] [--lengths 512,1024] [--rounds 2] [--steps 40] [--threads 2]

Writes OUT_DIR/train_speed.md and train_speed.json. Needs a quiet machine: ratios of runs
minutes apart only mean something when nothing else shares the cores.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stdout[-2000:]))


def registered_models(exe):
    """The mechanisms `exe models` lists (a name at the start of its line)."""
    out = subprocess.run([exe, "models"], stdout=subprocess.PIPE, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line[:1].isalpha()]


def intervals(run_dir):
    """steps/s of every logged training interval but the first."""
    rates = []
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            j = json.loads(line)
            if j.get("split") == "train" and "steps_per_s" in j:
                rates.append(j["steps_per_s"])
    return rates[1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("new")
    ap.add_argument("old")
    ap.add_argument("out")
    ap.add_argument("--models", default="all")
    ap.add_argument("--lengths", default="512,1024")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    models = registered_models(a.new) if a.models == "all" else a.models.split(",")
    lengths = [int(x) for x in a.lengths.split(",")]
    os.makedirs(a.out, exist_ok=True)
    work = os.path.join(a.out, "work")
    log_every = max(1, a.steps // 4)

    rows = []
    for n in lengths:
        data = os.path.join(work, "listops_%d" % n)
        if not os.path.isdir(data):  # expressions that fill most of the n tokens
            run([a.new, "data", "generate", "listops", "--out", data, "--min-len", str(n - n // 16),
                 "--max-len", str(n + 1), "--train", "2000", "--val", "200", "--test", "200"])
        for m in models:
            rates = {"new": [], "old": []}
            for r in range(a.rounds):
                for side, exe in (("new", a.new), ("old", a.old)):
                    d = os.path.join(work, "run_%s_%d_%s" % (m, n, side))
                    shutil.rmtree(d, ignore_errors=True)
                    run([exe, "train", "--task", "listops", "--preset", "cpu", "--model", m,
                         "--data", data, "--max-len", str(n), "--steps", str(a.steps),
                         "--log-every", str(log_every), "--eval-every", "0",
                         "--threads", str(a.threads), "--out", d])
                    rates[side] += intervals(d)
                    shutil.rmtree(d, ignore_errors=True)
            new, old = statistics.median(rates["new"]), statistics.median(rates["old"])
            rows.append({"model": m, "tokens": n, "new_steps_per_s": new,
                         "old_steps_per_s": old, "ratio": new / old,
                         "new_intervals": rates["new"], "old_intervals": rates["old"]})
            print("%-12s %5d  new %6.2f  old %6.2f steps/s  %.2fx" % (m, n, new, old, new / old),
                  flush=True)
    shutil.rmtree(work, ignore_errors=True)

    with open(os.path.join(a.out, "train_speed.json"), "w") as f:
        json.dump({"new": a.new, "old": a.old, "threads": a.threads, "steps": a.steps,
                   "rounds": a.rounds, "rows": rows}, f, indent=1)
    with open(os.path.join(a.out, "train_speed.md"), "w") as f:
        f.write("`lra_cpu train --task listops --preset cpu --max-len N` (batch 32, dropout 0.1), "
                "%d threads, %d steps per run, %d alternating runs per binary; median steps/s of "
                "the logged intervals after the first.\n\n" % (a.threads, a.steps, a.rounds))
        f.write("| Model | tokens | new steps/s | old steps/s | new / old |\n|---|---:|---:|---:|---:|\n")
        for r in rows:
            f.write("| %s | %d | %.2f | %.2f | %.2fx |\n" % (
                r["model"], r["tokens"], r["new_steps_per_s"], r["old_steps_per_s"], r["ratio"]))


if __name__ == "__main__":
    main()
