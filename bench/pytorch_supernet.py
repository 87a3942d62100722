#!/usr/bin/python3
"""Side-by-side speed of the DARTS supernet training step: PyTorch (Debian python3-torch) vs hwnas.

Builds the DARTS search network as docs/search.md describes it (8 cells, C=16, 8 ops per edge,
softmax over all ops, affine=False search ops, BN after pools), times the weight step (forward,
cross-entropy, backward, clip 5, SGD momentum) at batch 32 for 3x32x32 and 1x64x64 inputs, and
prints images/s. With --hwnas-bench PATH it also runs bench_supernet and prints both columns.

Run with Debian's interpreter: /usr/bin/python3 bench/pytorch_supernet.py [--hwnas-bench build/bench/bench_supernet]
"""
import argparse
import json
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in, c_out, k, stride, pad, dil=1, groups=1):
        super().__init__(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, pad, dilation=dil, groups=groups, bias=False),
                         nn.BatchNorm2d(c_out, affine=False))


def sep_conv(c, k, stride):
    pad = k // 2
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, stride, pad, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False),
                         nn.BatchNorm2d(c, affine=False),
                         nn.ReLU(), nn.Conv2d(c, c, k, 1, pad, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False),
                         nn.BatchNorm2d(c, affine=False))


def dil_conv(c, k, stride):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, stride, k - 1, dilation=2, groups=c, bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=False))


class FactorizedReduce(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.a = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.b = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=False)

    def forward(self, x):
        x = F.relu(x)
        return self.bn(torch.cat([self.a(x), self.b(x[:, :, 1:, 1:])], dim=1))


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x[:, :, ::self.stride, ::self.stride].mul(0.)


def make_ops(c, stride):
    return nn.ModuleList([
        Zero(stride),
        nn.Sequential(nn.MaxPool2d(3, stride, 1), nn.BatchNorm2d(c, affine=False)),
        nn.Sequential(nn.AvgPool2d(3, stride, 1, count_include_pad=False), nn.BatchNorm2d(c, affine=False)),
        nn.Identity() if stride == 1 else FactorizedReduce(c, c),
        sep_conv(c, 3, stride), sep_conv(c, 5, stride), dil_conv(c, 3, stride), dil_conv(c, 5, stride)])


class Cell(nn.Module):
    def __init__(self, nodes, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.pre1 = ReLUConvBN(c_p, c, 1, 1, 0)
        self.nodes = nodes
        self.edges = nn.ModuleList()
        for i in range(nodes):
            for j in range(2 + i):
                self.edges.append(make_ops(c, 2 if reduction and j < 2 else 1))

    def forward(self, s0, s1, w):
        states = [self.pre0(s0), self.pre1(s1)]
        e = 0
        for _ in range(self.nodes):
            s = 0
            for h in states:
                s = s + sum(w[e, k] * op(h) for k, op in enumerate(self.edges[e]))
                e += 1
            states.append(s)
        return torch.cat(states[-self.nodes:], dim=1)


class Supernet(nn.Module):
    def __init__(self, c_in, classes=10, cells=8, c=16, nodes=4):
        super().__init__()
        cs = 3 * c
        self.stem = nn.Sequential(nn.Conv2d(c_in, cs, 3, padding=1, bias=False), nn.BatchNorm2d(cs))
        c_pp, c_p, cc = cs, cs, c
        self.cells = nn.ModuleList()
        red_prev = False
        for i in range(cells):
            red = i in (cells // 3, 2 * cells // 3)
            if red:
                cc *= 2
            self.cells.append(Cell(nodes, c_pp, c_p, cc, red, red_prev))
            red_prev = red
            c_pp, c_p = c_p, nodes * cc
        self.classifier = nn.Linear(c_p, classes)
        k = sum(2 + i for i in range(nodes))
        self.alphas_normal = 1e-3 * torch.randn(k, 8)
        self.alphas_reduce = 1e-3 * torch.randn(k, 8)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        wn = F.softmax(self.alphas_normal, dim=-1)
        wr = F.softmax(self.alphas_reduce, dim=-1)
        for i, cell in enumerate(self.cells):
            red = i in (len(self.cells) // 3, 2 * len(self.cells) // 3)
            s0, s1 = s1, cell(s0, s1, wr if red else wn)
        return self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))


def bench(c_in, side, steps, batch=32):
    torch.manual_seed(2)
    net = Supernet(c_in)
    opt = torch.optim.SGD(net.parameters(), 0.025, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(batch, c_in, side, side)
    y = torch.arange(batch) % 10
    n_params = sum(p.numel() for p in net.parameters())

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    return batch * steps / dt, n_params


def hwnas_figures(path):
    out = subprocess.run([path, "--benchmark_filter=WeightStep", "--benchmark_format=json"], check=True,
                         capture_output=True, text=True).stdout
    res = {}
    for b in json.loads(out)["benchmarks"]:
        res["3x32x32" if "3x32x32" in b["name"] else "1x64x64"] = b["items_per_second"]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hwnas-bench", default="", help="path of the bench_supernet binary")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ours = hwnas_figures(a.hwnas_bench) if a.hwnas_bench else {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 32, 8 cells, C=16, weight step")
    print(f"{'input':>9} {'params':>9} {'pytorch img/s':>14} {'hwnas img/s':>12} {'ratio':>6}")
    for name, c_in, side in (("3x32x32", 3, 32), ("1x64x64", 1, 64)):
        ips, n = bench(c_in, side, a.steps)
        o = ours.get(name)
        print(f"{name:>9} {n:>9} {ips:>14.2f} " + (f"{o:>12.2f} {o / ips:>6.2f}" if o else f"{'-':>12} {'-':>6}"))


if __name__ == "__main__":
    main()
