# Side check of docs/lra.md section 6.1 (P18-P22): does the label equal "the two markers (the
# two largest blobs brighter than 200) lie in one 8-connected component of lit pixels"?
# /usr/bin/python3 flood_fill.py DATA_DIR [BATCHES]   (first BATCHES metadata files, default 3)
import sys, glob, numpy as np
from PIL import Image
from scipy import ndimage
root, batches = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
sub = glob.glob(root + '/curv*')[0]
agree = n = 0
components = {}
for b in range(batches):
    for line in open(f'{sub}/metadata/{b}.npy', 'rb').read().decode('latin1').split('\n'):
        f = line.split()
        if len(f) < 4: continue
        a = np.array(Image.open(f'{sub}/{f[0]}/{f[1]}'))
        ink, n_ink = ndimage.label(a > 0, structure=np.ones((3, 3)))
        bright, nb = ndimage.label(a > 200, structure=np.ones((3, 3)))
        sizes = ndimage.sum(np.ones_like(a), bright, range(1, nb + 1))
        markers = np.argsort(sizes)[::-1][:2] + 1
        comps = [np.bincount(ink[bright == k]).argmax() for k in markers]
        same = len(comps) == 2 and comps[0] == comps[1]
        agree += same == bool(int(f[3])); n += 1
        components[n_ink] = components.get(n_ink, 0) + 1
print(f'{root}: label = flood fill on {agree} of {n} images; components of ink: {components}')
