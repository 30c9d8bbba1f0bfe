# Side check of docs/lra.md section 6.1 (P18-P22): how much of Pathfinder-32 a threshold on the
# distance between the two markers explains. Best threshold fitted on images 0-2999 of a generated set, scored on images 3000-5999.
# /usr/bin/python3 marker_distance.py DATA_DIR...
import sys, glob, numpy as np
from PIL import Image
from scipy import ndimage
def distances(root, n=6000):
    sub = glob.glob(root + '/curv*')[0]; out = []
    for b in range(10000):
        try: lines = open(f'{sub}/metadata/{b}.npy', 'rb').read().decode('latin1').split('\n')
        except FileNotFoundError: break
        for line in lines:
            f = line.split()
            if len(f) < 4: continue
            a = np.array(Image.open(f'{sub}/{f[0]}/{f[1]}'))
            lab, nb = ndimage.label(a > 200, structure=np.ones((3, 3)))
            sizes = ndimage.sum(np.ones_like(a), lab, range(1, nb + 1))
            big = np.argsort(sizes)[::-1][:2] + 1
            c = ndimage.center_of_mass(np.ones_like(a), lab, big)
            d = np.hypot(c[0][0] - c[1][0], c[0][1] - c[1][1]) if nb >= 2 else 0.0
            out.append((int(f[3]), d))
            if len(out) == n: return np.array(out)
    return np.array(out)
for root in sys.argv[1:]:
    r = distances(root); fit, test = r[:3000], r[3000:]
    best = max(((np.mean((fit[:, 1] < t) == fit[:, 0]), t) for t in np.unique(fit[:, 1])))
    t = best[1]
    print(f'{root}: threshold {t:.1f} px, fitted {best[0]*100:.1f}%, held out '
          f'{np.mean((test[:, 1] < t) == test[:, 0])*100:.1f}%')
