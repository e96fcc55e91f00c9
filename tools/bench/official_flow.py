#!/usr/bin/env python3
"""Times the official inference of a flow network beside `animerun bench flow`.

Not part of the build or the tests (the project never needs Python): a harness for the
roofline table of docs/benchmarks.md. It imports the network code from a checkout of
lisiyao21/AnimeRun (the RAFT, GMA and GMFlow code its flow/evaluate_*.py scripts run), builds the
model with random weights (speed does not depend on them) and calls it as those scripts do:
RAFT/GMA `test_mode=True` (which upsamples after every iteration), GMFlow with
attn_splits [2] (refine: [2, 8], radii [-1, 4], propagation [-1, 1]), inside
`torch.inference_mode()`.

  python3 tools/bench/official_flow.py --repo /path/to/AnimeRun --model raft \
      --size 440x1024 --threads 2 [--iters 32] [--mode eager|compile|autocast] [--repeats 2 --warmup 1]

--mode compile wraps the model in torch.compile (default inductor) and reports the first call
(compilation included) as compile_s; autocast runs it under torch.autocast("cpu", bfloat16).
Prints one JSON line: median and min seconds per pair, median CPU seconds, peak RSS.
"""
import argparse, json, os, resource, sys, time
from argparse import Namespace as SimpleNamespace  # RAFT tests `'dropout' in args`


def cpu_now():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repo', required=True)
    ap.add_argument('--model', required=True, choices=['raft', 'raft-small', 'gma', 'gmflow', 'gmflow-refine'])
    ap.add_argument('--size', default='440x1024')
    ap.add_argument('--iters', type=int, default=32)
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--mode', default='eager', choices=['eager', 'compile', 'autocast'])
    a = ap.parse_args()
    h, w = map(int, a.size.split('x'))
    sys.path.insert(0, os.path.join(a.repo, 'flow', 'core'))
    sys.path.insert(0, os.path.join(a.repo, 'flow'))
    import torch
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model in ('raft', 'raft-small'):
        from raft import RAFT
        model = RAFT(SimpleNamespace(small=a.model == 'raft-small', mixed_precision=False, dropout=0.0,
                                     alternate_corr=False))
        call = lambda m, i1, i2: m(i1, i2, iters=a.iters, test_mode=True)[1]
    elif a.model == 'gma':
        from raft_gma import RAFTGMA
        model = RAFTGMA(SimpleNamespace(mixed_precision=False, num_heads=1, position_only=False,
                                        position_and_content=False, dropout=0.0))
        call = lambda m, i1, i2: m(i1, i2, iters=a.iters, test_mode=True)[1]
    else:
        from gmflow.gmflow import GMFlow
        refine = a.model == 'gmflow-refine'
        model = GMFlow(feature_channels=128, num_scales=2 if refine else 1, upsample_factor=4 if refine else 8,
                       num_head=1, attention_type='swin', ffn_dim_expansion=4, num_transformer_layers=6)
        call = lambda m, i1, i2: m(i1, i2, attn_splits_list=[2, 8] if refine else [2],
                                   corr_radius_list=[-1, 4] if refine else [-1],
                                   prop_radius_list=[-1, 1] if refine else [-1])['flow_preds'][-1]
    model.eval()
    runner = torch.compile(model) if a.mode == 'compile' else model
    img1 = torch.rand(1, 3, h, w) * 255
    img2 = torch.roll(img1, shifts=(3, 6), dims=(2, 3))  # a moved copy; the cost does not depend on content
    times, cpu, compile_s = [], [], None
    for i in range(a.warmup + a.repeats):
        t0, c0 = time.perf_counter(), cpu_now()
        with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.mode == 'autocast'):
            flow = call(runner, img1, img2)
        dt = time.perf_counter() - t0
        if i == 0 and a.mode == 'compile':
            compile_s = dt
        if i >= a.warmup:
            times.append(dt)
            cpu.append(cpu_now() - c0)
    assert flow.shape[-2:] == (h, w) and torch.isfinite(flow).all()
    times.sort()
    cpu.sort()
    out = {'bench': 'official_flow', 'model': a.model, 'torch': torch.__version__, 'mode': a.mode, 'size': a.size,
           'iters': a.iters if a.model in ('raft', 'raft-small', 'gma') else None, 'threads': torch.get_num_threads(),
           'median_s': round(times[len(times) // 2], 4), 'min_s': round(times[0], 4),
           'median_cpu_s': round(cpu[len(cpu) // 2], 4),
           'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    if compile_s is not None:
        out['compile_s'] = round(compile_s, 2)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
