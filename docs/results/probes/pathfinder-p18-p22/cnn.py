# Side check of docs/lra.md section 6.1 (P18-P22): a small CNN on the same generated
# Pathfinder-32 images (an 80/10/10 split in file order), test accuracy after every epoch.
# /usr/bin/python3 cnn.py DATA_DIR [EPOCHS]   (DATA_DIR from `lra_cpu data generate pathfinder`)
import sys, glob, os, time, numpy as np, torch, torch.nn as nn
from PIL import Image
torch.set_num_threads(1); torch.manual_seed(0)
root = sys.argv[1]; epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 6
X, Y = [], []
sub = glob.glob(root + '/curv_*')[0]
for m in sorted(glob.glob(sub + '/metadata/*.npy'), key=lambda p: int(os.path.basename(p)[:-4])):
    for line in open(m, 'rb').read().decode('latin1').split('\n'):
        f = line.split()
        if len(f) < 4: continue
        X.append(np.array(Image.open(os.path.join(sub, f[0], f[1])))); Y.append(int(f[3]))
X = np.stack(X).astype(np.uint8); Y = np.array(Y)
n = len(Y); ntr, nva = int(n * .8), int(n * .1)
X = torch.tensor(X, dtype=torch.float32).unsqueeze(1) / 255.0; Y = torch.tensor(Y)
Xtr, Ytr, Xte, Yte = X[:ntr], Y[:ntr], X[ntr + nva:], Y[ntr + nva:]
def block(i, o): return [nn.Conv2d(i, o, 3, padding=1), nn.ReLU()]
net = nn.Sequential(*block(1, 32), *block(32, 32), *block(32, 32), nn.MaxPool2d(2),
                    *block(32, 64), *block(64, 64), *block(64, 64), nn.MaxPool2d(2),
                    *block(64, 128), *block(128, 128), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                    nn.Linear(128, 2))
opt = torch.optim.Adam(net.parameters(), 1e-3)
def acc(Xs, Ys):
    net.eval(); c = 0
    with torch.no_grad():
        for i in range(0, len(Ys), 500): c += (net(Xs[i:i+500]).argmax(1) == Ys[i:i+500]).sum().item()
    net.train(); return c / len(Ys)
t0 = time.time()
for ep in range(epochs):
    perm = torch.randperm(ntr)
    for i in range(0, ntr, 64):
        idx = perm[i:i+64]
        loss = nn.functional.cross_entropy(net(Xtr[idx]), Ytr[idx])
        opt.zero_grad(); loss.backward(); opt.step()
    print(f'epoch {ep+1} loss {loss.item():.3f} test acc {acc(Xte, Yte)*100:.2f}% ({time.time()-t0:.0f}s)', flush=True)
