"""PyTorch on the same GPU, as the baseline of `bench gpu` (src-main/bench/gpu.ts): the DINO step of
dino_reference.py (teacher on the 2 global crops, student on all, loss, backward, clipping, AdamW, EMA)
and ViT embedding ([CLS] after the final norm), each in fp32 and with AMP (autocast + GradScaler, as
main_dino's --use_fp16), and a square fp32 matMul. Peak memory is torch.cuda.max_memory_allocated.

Usage: torch_gpu_bench.py '{"what": "step"|"embed"|"matmul", "amp": false, ...}'
Prints one JSON line. Exits 3 when CUDA is unavailable (the caller then has no GPU baseline).
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
from dino_reference import (DINOHead, DINOLoss, MultiCropWrapper, VisionTransformer,  # noqa: E402
                            cancel_gradients_last_layer, clip_gradients, get_params_groups)

c = json.loads(sys.argv[1])
if not torch.cuda.is_available():
    print(json.dumps({'error': 'torch.cuda.is_available() is false'}))
    sys.exit(3)
dev = torch.device('cuda')
torch.manual_seed(0)
amp = bool(c.get('amp', False))
# fp32 means fp32: no TF32 in matMuls or convolutions (our WebGPU kernels are plain fp32)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


class Wrapper(MultiCropWrapper):
    """MultiCropWrapper with its output started on the crops' device (the reference starts on the CPU)."""

    def forward(self, x):
        if not isinstance(x, list):
            x = [x]
        idx = torch.cumsum(torch.unique_consecutive(torch.tensor([i.shape[-1] for i in x]), return_counts=True)[1], 0)
        start, out = 0, []
        for end in idx:
            out.append(self.backbone(torch.cat(x[start:end])))
            start = end
        return self.head(torch.cat(out))


def timed(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps, torch.cuda.max_memory_allocated() / 2 ** 20


def step_bench():
    def make():
        vit = VisionTransformer(c['img_size'], c['patch'], c['embed_dim'], c['depth'], c['heads'])
        return Wrapper(vit, DINOHead(c['embed_dim'], c['out_dim'], True, c['nlayers'], c['hidden'], c['bottleneck'])).to(dev)

    student, teacher = make(), make()
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad = False
    b, ncrops = c['batch'], 2 + c['n_local']
    images = [torch.randn(b, 3, c['global_size'], c['global_size'], device=dev) for _ in range(2)]
    images += [torch.randn(b, 3, c['local_size'], c['local_size'], device=dev) for _ in range(c['n_local'])]
    loss_fn = DINOLoss(c['out_dim'], ncrops, 0.04, 0.04, 0, 10).to(dev)
    opt = torch.optim.AdamW(get_params_groups(student), lr=5e-4)
    scaler = torch.cuda.amp.GradScaler() if amp else None

    def step():
        with torch.cuda.amp.autocast(enabled=amp):
            t_out = teacher(images[:2])
            s_out = student(images)
            loss = loss_fn(s_out, t_out, 1)
        opt.zero_grad()
        if scaler:
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            clip_gradients(student, 3.0)
            cancel_gradients_last_layer(1, student, 0)
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            clip_gradients(student, 3.0)
            cancel_gradients_last_layer(1, student, 0)
            opt.step()
        with torch.no_grad():
            for q, k in zip(student.parameters(), teacher.parameters()):
                k.data.mul_(0.996).add_(0.004 * q.detach().data)

    s, mem = timed(step, int(c.get('steps', 5)))
    return {'ms_per_step': 1000 * s, 'img_per_sec': b / s, 'peak_mb': mem}


def embed_bench():
    vit = VisionTransformer(c['img'], c['patch'], c['dim'], c['depth'], c['heads']).to(dev).eval()
    x = torch.randn(c['batch'], 3, c['img'], c['img'], device=dev)

    def run():
        with torch.no_grad(), torch.cuda.amp.autocast(enabled=amp):
            torch.nn.functional.normalize(vit(x).float(), dim=-1)

    s, mem = timed(run, int(c.get('batches', 10)))
    return {'img_per_sec': c['batch'] / s, 'peak_mb': mem}


def matmul_bench():
    n = c['n']
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    s, mem = timed(lambda: a @ b, int(c.get('reps', 20)), warmup=3)
    return {'gflops': 2 * n ** 3 / s / 1e9, 'peak_mb': mem}


out = {'step': step_bench, 'embed': embed_bench, 'matmul': matmul_bench}[c['what']]()
out.update(device=torch.cuda.get_device_name(0), torch=torch.__version__, amp=amp)
print(json.dumps(out))
