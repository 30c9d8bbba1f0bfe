#!/usr/bin/env python3
"""What a Pathfinder model's answers depend on (docs/lra.md section 6.1).

usage: analyze.py DATA_ROOT PREDICTIONS.tsv [SPLIT]
  DATA_ROOT        the folder with metadata/ (e.g. DIR/curv_baseline from lra_cpu data generate)
  PREDICTIONS.tsv  from: lra_cpu eval --run RUN --split test --predictions PREDICTIONS.tsv
  SPLIT            test (default) or val: where the split starts in metadata order (the reader
                   takes the first 80% as train, the next 10% as val, the last 10% as test)

Needs numpy, scipy and PIL (Debian: python3-numpy python3-scipy python3-pil). Markers are found
as the two largest 8-connected groups of 255-valued pixels; "connected" is whether they lie in
one 8-connected component of lit pixels, which is the label on connected-style images."""
import os
import re
import sys
from collections import deque

import numpy as np
from PIL import Image
from scipy import ndimage


def entries_of(root):
    meta = os.path.join(root, "metadata")
    files = sorted(os.listdir(meta), key=lambda f: int(re.sub(r"\D", "", f) or 0))
    out = []
    for f in files:
        for line in open(os.path.join(meta, f)):
            c = line.split()
            if c:
                out.append((os.path.join(root, c[0], c[1]), int(c[3])))
    return out


def geodesic(lit, a, b):
    """Steps between pixels a and b through 8-connected lit pixels (-1: not connected)."""
    dist = -np.ones(lit.shape, dtype=int)
    dist[a] = 0
    queue = deque([a])
    while queue:
        y, x = queue.popleft()
        if (y, x) == b:
            return dist[y, x]
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                v, u = y + dy, x + dx
                if 0 <= v < lit.shape[0] and 0 <= u < lit.shape[1] and lit[v, u] and dist[v, u] < 0:
                    dist[v, u] = dist[y, x] + 1
                    queue.append((v, u))
    return -1


def features(path):
    a = np.asarray(Image.open(path), dtype=np.int32)
    full, lit = a == 255, a > 0
    comp, n = ndimage.label(full, structure=np.ones((3, 3)))
    sizes = ndimage.sum(full, comp, range(1, n + 1))
    m = [tuple(np.round(ndimage.center_of_mass(full, comp, k)).astype(int))
         for k in np.argsort(-sizes)[:2] + 1]
    euclid = float(np.hypot(m[0][0] - m[1][0], m[0][1] - m[1][1]))
    return euclid, geodesic(lit, m[0], m[1]), int(lit.sum())


def main():
    root, pred_path = sys.argv[1], sys.argv[2]
    split = sys.argv[3] if len(sys.argv) > 3 else "test"
    entries = entries_of(root)
    n = len(entries)
    n_train = n * 8 // 10
    offset = n_train if split == "val" else n_train + (n * 9 // 10 - n_train)
    rows = [line.rstrip("\n").split("\t") for line in open(pred_path)][1:]
    P = np.array([[float(x) for x in r[:7]] for r in rows])
    idx, label, pred, correct, p1 = P[:, 0].astype(int), P[:, 1], P[:, 2], P[:, 3], P[:, 6]
    F = []
    for i, y in zip(idx, label.astype(int)):
        path, meta_label = entries[offset + i]
        assert meta_label == y, f"example {i}: metadata label {meta_label}, predictions {y}"
        F.append(features(path))
    euclid, geo, lit = np.array(F, dtype=float).T
    connected = (geo >= 0).astype(float)
    print(f"{len(P)} examples: accuracy {correct.mean():.4f}; answered 'connected' for "
          f"{pred.mean():.3f}, label 'connected' {label.mean():.3f}")
    print(f"marker connectivity computed from the pixels equals the label for "
          f"{(connected == label).mean():.4f}")
    print("p(connected) histogram:")
    counts, edges = np.histogram(p1, bins=10)
    for c, lo, hi in zip(counts, edges, edges[1:]):
        print(f"  [{lo:.3f}, {hi:.3f}): {c}")
    for v, name in ((0, "disconnected"), (1, "connected")):
        m = pred == v
        if m.any():
            print(f"answered {name}: {m.sum()} examples, right for {(label[m] == v).mean():.3f}, "
                  f"p(connected) {p1[m].min():.3f}..{p1[m].max():.3f} (std {p1[m].std():.4f})")
    print("share answered 'connected', by marker distance (pixels), per label:")
    for lo, hi in ((0, 10), (10, 13), (13, 16), (16, 64)):
        cells = []
        for y in (0, 1):
            m = (label == y) & (euclid >= lo) & (euclid < hi)
            cells.append(f"label {y}: {pred[m].mean():.3f} of {m.sum()}" if m.any() else "-")
        print(f"  [{lo}, {hi}): " + ", ".join(cells))
    pos = (label == 1) & (geo > 0)
    straight = euclid / np.maximum(geo, 1)
    print("connected images: share answered 'connected' by straightness (marker distance / steps")
    print("of the 8-connected path between them; over 1 for diagonal paths):")
    for lo, hi in ((0, 0.7), (0.7, 0.85), (0.85, 1.0), (1.0, 1.5)):
        m = pos & (straight >= lo) & (straight < hi)
        print(f"  [{lo}, {hi}): {pred[m].mean():.3f} of {m.sum()}" if m.any() else f"  [{lo}, {hi}): -")
    print(f"correlation of p(connected) with lit pixels {np.corrcoef(lit, p1)[0, 1]:+.3f}, "
          f"with marker distance {np.corrcoef(euclid, p1)[0, 1]:+.3f}")


if __name__ == "__main__":
    main()
