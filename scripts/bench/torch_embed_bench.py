"""Times ViT embedding ([CLS] after the final norm) in PyTorch, as the baseline of `bench embed`.

Usage: torch_embed_bench.py '{"dim":384,"depth":12,"heads":6,"patch":16,"img":224,"batch":16,"batches":3,"threads":1}'
Prints one JSON line: {"img_per_sec": ..., "blas": ...}. The model is the one of
scripts/fixtures/weights_reference.py (the official definition), with random weights.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'fixtures'))
import torch  # noqa: E402
from weights_reference import ViT  # noqa: E402

a = json.loads(sys.argv[1])
torch.set_num_threads(a['threads'])
torch.manual_seed(0)
model = ViT(a['img'], a['patch'], a['dim'], a['depth'], a['heads']).eval()
x = torch.randn(a['batch'], 3, a['img'], a['img'])
with torch.no_grad():
    model(x)  # warm-up
    t0 = time.perf_counter()
    for _ in range(a['batches']):
        model(x)
    dt = time.perf_counter() - t0
cfg = torch.__config__.show()
blas = 'OpenBLAS' if 'openblas' in cfg.lower() else 'BLAS'
print(json.dumps({'img_per_sec': a['batch'] * a['batches'] / dt, 'blas': blas}))
