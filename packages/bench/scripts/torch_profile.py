#!/usr/bin/env python3
"""Where PyTorch's distillation step spends its time: the step of shared/bench/torch_distill_bench.py, timed as
that script times it, then profiled with torch.profiler (self CPU time per aten op), with the matrix products
(aten::addmm, aten::mm, aten::bmm) summed apart from everything else. The counterpart of
`distill-bench --floor`.

Prints one JSON line:
  {"framework": "pytorch", "mode": "profile", "config", "threads", "steps", "profiled_steps",
   "step_ms": median of the timed steps, "profiled_step_ms": self CPU time per profiled step,
   "products_ms": per step, "products_share": products_ms / profiled_step_ms,
   "ops": [{"name", "ms_per_step", "calls_per_step"}...] (the 15 largest by self time)}

Usage (Debian's interpreter, from the project root):
  /usr/bin/python3 packages/bench/scripts/torch_profile.py [--script PATH] [--config PATH] [--steps N]
      [--warmup N] [--profile-steps N] [--threads N]
"""
import argparse
import importlib.util
import json
import os
import statistics
import time

PRODUCT_OPS = ("aten::addmm", "aten::mm", "aten::bmm")


def load_reference(path):
    """The reference script as a module (its models and losses; its main() is not run)."""
    spec = importlib.util.spec_from_file_location("torch_distill_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_step(ref, cfg):
    """The reference script's train step, built as its main() builds it (same seed and draw order)."""
    torch, nn = ref.torch, ref.nn
    B, N = cfg["batch_size"], cfg["seq_len"]
    ls_cfg = cfg["losses"]["hidden_mse"]
    torch.manual_seed(cfg["seed"])
    teacher = ref.BertClassifier(cfg, cfg["teacher"], 0.0).eval()
    student = ref.BertClassifier(cfg, cfg["student"], cfg["student_dropout"])
    proj = nn.Linear(ls_cfg["proj"][1], ls_cfg["proj"][2])
    nn.init.normal_(proj.weight, 0.0, cfg["initializer_range"])
    nn.init.zeros_(proj.bias)
    ids = torch.randint(1, cfg["vocab_size"], (B, N))
    mask = torch.ones(B, N, dtype=torch.long)
    types = torch.zeros(B, N, dtype=torch.long)
    labels = torch.randint(0, cfg["num_labels"], (B,))
    o = cfg["optimizer"]
    opt = torch.optim.AdamW(list(student.parameters()) + list(proj.parameters()), lr=o["lr"],
                            betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weight_decay"])

    def step():
        student.train()
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            out_t = teacher(ids, mask, types)
        out_s = student(ids, mask, types)
        loss, _ = ref.distill_loss(cfg, out_s, out_t, labels, proj)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_script = os.path.normpath(os.path.join(here, "..", "..", "..", "..", "shared", "bench",
                                                   "torch_distill_bench.py"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--script", default=default_script, help="the reference script (default: shared/bench/)")
    ap.add_argument("--config", default=None, help="bench config (default: bench-standard.json beside --script)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps before them (default 2)")
    ap.add_argument("--profile-steps", type=int, default=5, help="profiled steps after them (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1, as the script)")
    args = ap.parse_args()
    if not os.path.exists(args.script):
        ap.error(f"--script: {args.script} not found (pass the path of shared/bench/torch_distill_bench.py)")
    config = args.config or os.path.join(os.path.dirname(args.script), "bench-standard.json")
    if not os.path.exists(config):
        ap.error(f"--config: {config} not found")

    ref = load_reference(args.script)
    torch = ref.torch
    torch.set_num_threads(args.threads)
    with open(config) as f:
        cfg = json.load(f)
    step = build_step(ref, cfg)

    times = []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        step()
        if i >= args.warmup:
            times.append((time.perf_counter() - t0) * 1000.0)

    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.profile_steps):
            step()
    n = args.profile_steps
    rows = [(e.key, e.self_cpu_time_total / 1000.0 / n, e.count / n) for e in prof.key_averages()]
    total = sum(ms for _, ms, _ in rows)
    products = sum(ms for name, ms, _ in rows if name in PRODUCT_OPS)
    rows.sort(key=lambda r: -r[1])
    print(json.dumps({
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "mode": "profile",
        "config": cfg["name"],
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "profiled_steps": n,
        "step_ms": round(statistics.median(times), 2),
        "profiled_step_ms": round(total, 2),
        "products_ms": round(products, 2),
        "products_share": round(products / total, 4) if total > 0 else None,
        "ops": [{"name": k, "ms_per_step": round(ms, 2), "calls_per_step": round(c, 2)} for k, ms, c in rows[:15]],
    }))


if __name__ == "__main__":
    main()
