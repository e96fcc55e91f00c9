#!/usr/bin/env python3
"""Times the official training step of a flow network beside `animerun bench train`.

Not part of the build or the tests (the project never needs Python): a harness for
docs/benchmarks.md. It imports the network code from a checkout of lisiyao21/AnimeRun (which
carries the RAFT, GMA, GMFlow and PWC-Net code its flow/train_*.py scripts train) and runs the
body of their training loop on random batches: model(image1, image2, iters), sequence_loss,
backward, clip_grad_norm_(1.0), AdamW step and OneCycleLR step, with BatchNorm frozen for
RAFT/GMA as the scripts do. CUDA calls are redirected to the CPU.

  python3 tools/bench/official_train.py --repo /path/to/AnimeRun --model raft \
      --batch 6 --crop 368x768 --threads 2 [--steps 5 --warmup 1] [--bf16]
Prints one JSON line (median seconds per update, updates/s, peak RSS).
"""
import argparse, json, os, resource, sys, time
import types
from argparse import Namespace as SimpleNamespace  # RAFT tests `'dropout' in args`


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repo', required=True)
    ap.add_argument('--model', required=True, choices=['raft', 'raft-small', 'gma', 'gmflow', 'gmflow-refine', 'pwcnet'])
    ap.add_argument('--batch', type=int, default=6)
    ap.add_argument('--crop', default='368x768')
    ap.add_argument('--iters', type=int, default=12)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--bf16', action='store_true', help='torch.autocast("cpu", bfloat16) around forward and loss')
    a = ap.parse_args()
    h, w = map(int, a.crop.split('x'))
    sys.path.insert(0, os.path.join(a.repo, 'flow', 'core'))
    sys.path.insert(0, os.path.join(a.repo, 'flow'))
    import torch
    import torch.nn as nn
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.Tensor.cuda = lambda self, *args, **kw: self  # the official code calls .cuda()
    nn.Module.cuda = lambda self, *args, **kw: self
    # PWC-Net's correlation is a CuPy kernel; the same operation in plain PyTorch (kernel 1,
    # max displacement 4: channel (dy+4)*9+(dx+4) = mean_c one[c,y,x] * two[c,y+dy,x+dx]).
    corr = types.ModuleType('correlation')
    def FunctionCorrelation(tensorFirst, tensorSecond):
        b, c, hh, ww = tensorFirst.shape
        padded = torch.nn.functional.pad(tensorSecond, (4, 4, 4, 4))
        out = [(tensorFirst * padded[:, :, dy:dy + hh, dx:dx + ww]).mean(1, keepdim=True)
               for dy in range(9) for dx in range(9)]
        return torch.cat(out, 1)
    corr.FunctionCorrelation = FunctionCorrelation
    sys.modules['correlation'] = corr

    if a.model in ('raft', 'raft-small'):
        from raft import RAFT
        model = RAFT(SimpleNamespace(small=a.model == 'raft-small', mixed_precision=False, dropout=0.0,
                                     alternate_corr=False))
    elif a.model == 'gma':
        from raft_gma import RAFTGMA
        model = RAFTGMA(SimpleNamespace(mixed_precision=False, num_heads=1, position_only=False,
                                        position_and_content=False, dropout=0.0))
    elif a.model.startswith('gmflow'):
        from gmflow.gmflow import GMFlow
        refine = a.model == 'gmflow-refine'
        model = GMFlow(feature_channels=128, num_scales=2 if refine else 1, upsample_factor=4 if refine else 8,
                       num_head=1, attention_type='swin', ffn_dim_expansion=4, num_transformer_layers=6)
    else:
        from pwcnet import PWCNet
        model = PWCNet()
    model.train()
    if a.model in ('raft', 'raft-small', 'gma'):
        model.freeze_bn()
    steps = a.steps + a.warmup
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-5, eps=1e-8)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-4, steps + 100, pct_start=0.05, cycle_momentum=False,
                                                anneal_strategy='linear')

    def sequence_loss(preds, gt, valid, gamma=0.85, max_flow=400):  # train_*.py, unchanged
        n = len(preds)
        loss = 0.0
        mag = torch.sum(gt ** 2, dim=1).sqrt()
        valid = (valid >= 0.5) & (mag < max_flow)
        for i in range(n):
            loss += gamma ** (n - i - 1) * (valid[:, None] * (preds[i] - gt).abs()).mean()
        return loss

    torch.manual_seed(0)
    times, cpu = [], []
    def cpu_now():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    for step in range(steps):
        img1 = torch.rand(a.batch, 3, h, w) * 255
        img2 = torch.rand(a.batch, 3, h, w) * 255
        gt = torch.randn(a.batch, 2, h, w) * 5
        valid = torch.ones(a.batch, h, w)
        t0, c0 = time.perf_counter(), cpu_now()
        opt.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
            if a.model.startswith('gmflow'):
                refine = a.model == 'gmflow-refine'
                preds = model(img1, img2, attn_splits_list=[2, 8] if refine else [2],
                              corr_radius_list=[-1, 4] if refine else [-1],
                              prop_radius_list=[-1, 1] if refine else [-1])['flow_preds']
            else:
                preds = model(img1, img2, iters=a.iters)
            loss = sequence_loss([p.float() for p in preds], gt, valid)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(cpu_now() - c0)
    times.sort()
    cpu.sort()
    med = times[len(times) // 2]
    print(json.dumps({'bench': 'official_train', 'model': a.model, 'torch': torch.__version__, 'batch': a.batch,
                      'crop': a.crop, 'iters': a.iters, 'precision': 'bf16' if a.bf16 else 'fp32',
                      'threads': torch.get_num_threads(), 'median_s': round(med, 4), 'min_s': round(times[0], 4),
                      'updates_per_s': round(1 / med, 4), 'median_cpu_s': round(cpu[len(cpu) // 2], 4),
                      'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == '__main__':
    main()
