"""A short DINO training run in PyTorch on a labelled folder, with the k-NN evaluation of eval_knn.py,
to tell a recipe problem from an implementation problem: run the same preset here and with
`dino-explorer train-eval`, and compare the curves. A developer tool only; the app never runs Python.

    /usr/bin/python3 scripts/reference/dino_train_reference.py --data ../shared/data/caltech10 --epochs 10

Augmentations follow main_dino.DataAugmentationDINO (RandomResizedCrop, flip, colour jitter, grayscale,
blur, solarisation, per-view probabilities) written with PIL; the model, loss, schedules and step come
from scripts/fixtures/dino_reference.py.
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'fixtures'))
import dino_reference as R  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def load_folder(root, max_side):
    images, labels, classes = [], [], sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    for ci, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, c))):
            try:
                im = Image.open(os.path.join(root, c, f))
                im = ImageOps.exif_transpose(im).convert('RGB')
            except Exception:
                continue
            im.thumbnail((max_side, max_side), Image.BICUBIC)
            images.append(im)
            labels.append(ci)
    return images, np.array(labels), classes


def random_resized_crop(im, size, scale, rng):
    w, h = im.size
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(*scale)
        ar = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = int(round(math.sqrt(target * ar))), int(round(math.sqrt(target / ar)))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            return im.resize((size, size), Image.BICUBIC, box=(x, y, x + cw, y + ch))
    s = min(w, h)
    x, y = (w - s) // 2, (h - s) // 2
    return im.resize((size, size), Image.BICUBIC, box=(x, y, x + s, y + s))


def flip_and_jitter(im, rng, jitter_p=0.8, gray_p=0.2):
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < jitter_p:
        ops = [lambda x: ImageEnhance.Brightness(x).enhance(rng.uniform(0.6, 1.4)),
               lambda x: ImageEnhance.Contrast(x).enhance(rng.uniform(0.6, 1.4)),
               lambda x: ImageEnhance.Color(x).enhance(rng.uniform(0.8, 1.2)),
               lambda x: hue_shift(x, rng.uniform(-0.1, 0.1))]
        rng.shuffle(ops)
        for op in ops:
            im = op(im)
    if rng.random() < gray_p:
        im = ImageOps.grayscale(im).convert('RGB')
    return im


def hue_shift(im, h):
    hsv = np.array(im.convert('HSV'))
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + int(h * 255)) % 256
    return Image.fromarray(hsv, 'HSV').convert('RGB')


def view(im, size, scale, blur_p, solarize_p, blur_scale, rng, jitter_p=0.8, gray_p=0.2):
    im = flip_and_jitter(random_resized_crop(im, size, scale, rng), rng, jitter_p, gray_p)
    if rng.random() < blur_p:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.1, 2.0) * blur_scale))
    if rng.random() < solarize_p:
        im = ImageOps.solarize(im, 128)
    return to_tensor(im)


def to_tensor(im):
    a = (np.asarray(im, dtype=np.float32) / 255 - MEAN) / STD
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


def eval_tensor(im, size):
    w, h = im.size
    short = round(size * 256 / 224)
    s = short / min(w, h)
    im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC)
    w, h = im.size
    x, y = (w - size) // 2, (h - size) // 2
    return to_tensor(im.crop((x, y, x + size, y + size)))


@torch.no_grad()
def knn_accuracy(features, labels, k=20, T=0.07, num_classes=None):
    """eval_knn.knn_classifier, leave-one-out: weights exp(sim / T), votes summed per class."""
    f = F.normalize(features, dim=1)
    sim = f @ f.t()
    sim.fill_diagonal_(-float('inf'))
    top, idx = sim.topk(k, dim=1)
    nl = labels[idx]
    c = num_classes or int(labels.max()) + 1
    votes = torch.zeros(len(labels), c).scatter_add_(1, nl, (top / T).exp())
    return (votes.argmax(1) == labels).float().mean().item()


@torch.no_grad()
def embed(backbone, images, size):
    backbone.eval()
    x = torch.stack([eval_tensor(im, size) for im in images])
    return torch.cat([backbone(x[i:i + 64]) for i in range(0, len(x), 64)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--dim', type=int, default=192)
    p.add_argument('--depth', type=int, default=6)
    p.add_argument('--heads', type=int, default=3)
    p.add_argument('--patch', type=int, default=16)
    p.add_argument('--global-size', type=int, default=64)
    p.add_argument('--local-size', type=int, default=32)
    p.add_argument('--n-local', type=int, default=4)
    p.add_argument('--global-scale', type=float, nargs=2, default=[0.4, 1.0])
    p.add_argument('--local-scale', type=float, nargs=2, default=[0.05, 0.4])
    p.add_argument('--out-dim', type=int, default=2048)
    p.add_argument('--hidden', type=int, default=1024)
    p.add_argument('--lr', type=float, default=4e-3, help='base lr per 256 images')
    p.add_argument('--min-lr', type=float, default=1e-5)
    p.add_argument('--warmup-epochs', type=int, default=1)
    p.add_argument('--wd', type=float, nargs=2, default=[0.04, 0.4])
    p.add_argument('--momentum', type=float, default=0.99)
    p.add_argument('--teacher-temp', type=float, default=0.04)
    p.add_argument('--warmup-teacher-temp', type=float, default=0.04)
    p.add_argument('--warmup-teacher-temp-epochs', type=int, default=0)
    p.add_argument('--center-momentum', type=float, default=0.9)
    p.add_argument('--clip', type=float, default=3.0)
    p.add_argument('--freeze-last-layer', type=int, default=1)
    p.add_argument('--blur-scale', type=float, default=1.0, help='multiplies the blur sigma range (0.1-2)')
    p.add_argument('--jitter-p', type=float, default=0.8)
    p.add_argument('--gray-p', type=float, default=0.2)
    p.add_argument('--evals', type=int, default=5)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)

    images, labels, classes = load_folder(a.data, max(2 * a.global_size, 128))
    labels_t = torch.from_numpy(labels)
    n = len(images)
    niter = n // a.batch
    student_vit = R.VisionTransformer(a.global_size, a.patch, a.dim, a.depth, a.heads)
    teacher_vit = R.VisionTransformer(a.global_size, a.patch, a.dim, a.depth, a.heads)
    student = R.MultiCropWrapper(student_vit, R.DINOHead(a.dim, a.out_dim, hidden_dim=a.hidden))
    teacher = R.MultiCropWrapper(teacher_vit, R.DINOHead(a.dim, a.out_dim, hidden_dim=a.hidden))
    teacher.load_state_dict(student.state_dict())
    for q in teacher.parameters():
        q.requires_grad = False
    ncrops = 2 + a.n_local
    loss_fn = R.DINOLoss(a.out_dim, ncrops, a.warmup_teacher_temp, a.teacher_temp, a.warmup_teacher_temp_epochs,
                         a.epochs, center_momentum=a.center_momentum)
    opt = torch.optim.AdamW(R.get_params_groups(student))
    lr_s = R.cosine_scheduler(a.lr * a.batch / 256, a.min_lr, a.epochs, niter, warmup_epochs=a.warmup_epochs)
    wd_s = R.cosine_scheduler(a.wd[0], a.wd[1], a.epochs, niter)
    m_s = R.cosine_scheduler(a.momentum, 1, a.epochs, niter)

    rand_acc = knn_accuracy(embed(teacher_vit, images, a.global_size), labels_t)
    print(f'random init k-NN20 {rand_acc:.3f}', flush=True)
    eval_every = max(1, a.epochs // a.evals)
    t0 = time.time()
    it = 0
    for epoch in range(a.epochs):
        order = list(range(n))
        rng.shuffle(order)
        student.train()
        losses = []
        for b in range(niter):
            batch = [images[i] for i in order[b * a.batch:(b + 1) * a.batch]]
            crops = [torch.stack([view(im, a.global_size, a.global_scale, 1.0, 0.0, a.blur_scale, rng, a.jitter_p, a.gray_p) for im in batch]),
                     torch.stack([view(im, a.global_size, a.global_scale, 0.1, 0.2, a.blur_scale, rng, a.jitter_p, a.gray_p) for im in batch])]
            crops += [torch.stack([view(im, a.local_size, a.local_scale, 0.5, 0.0, a.blur_scale, rng, a.jitter_p, a.gray_p) for im in batch])
                      for _ in range(a.n_local)]
            loss, t_out, _ = R.train_step(student, teacher, loss_fn, opt, crops, it, epoch, lr_s, wd_s, m_s, a.clip,
                                          a.freeze_last_layer)
            with torch.no_grad():
                q = F.softmax((t_out - loss_fn.center) / loss_fn.teacher_temp_schedule[epoch], dim=-1)
                ent = -(q * torch.log(q + 1e-12)).sum(-1).mean().item()
            losses.append(loss.item())
            it += 1
        msg = f'epoch {epoch + 1} loss {np.mean(losses):.4f} entropy {ent:.3f} ({time.time() - t0:.0f} s)'
        if (epoch + 1) % eval_every == 0 or epoch + 1 == a.epochs:
            feats = embed(teacher_vit, images, a.global_size)
            acc = knn_accuracy(feats, labels_t)
            with torch.no_grad():
                head_acc = knn_accuracy(teacher.head.mlp(feats), labels_t)
                centred = knn_accuracy(feats - feats.mean(0, keepdim=True), labels_t)
            msg += f' k-NN20 {acc:.3f} (head bottleneck {head_acc:.3f}, centred backbone {centred:.3f})'
        print(msg, flush=True)


if __name__ == '__main__':
    main()
