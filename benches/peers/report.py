#!/usr/bin/env python3
"""Print the comparison table(s) from benches/peers/results.jsonl (written by run.sh).

usage: report.py RESULTS.jsonl [MODEL ...]   (default: every model in the file)

Per tool: the run with the median wall time of its repeats (same seed every repeat,
so every repeat does the same work); customers/s = customers / median wall time.
"""
import json
import statistics
import sys

THEORY = {  # mean response time W in seconds
    "mm3": (2.62305913, "M/M/3, lambda 2.55/s, mean service 1 s, rho 0.85 (Erlang C)", 1.0, "s"),
    "tier3": (0.0396077923, "lb 1x1 ms -> app 8x30 ms -> 30 % db 4x10 ms, lambda 200/s (Jackson)", 1e3, "ms"),
}
TOOLS = ["minimal", "capsim", "simpy", "ciw"]


def rate(x):
    if x is None:
        return "-"
    for div, suf in ((1e6, " M"), (1e3, " k")):
        if x >= div:
            return f"{x / div:.3g}{suf}"
    return f"{x:.3g}"


def main():
    path = sys.argv[1]
    rows = [json.loads(l) for l in open(path) if l.strip()]
    models = sys.argv[2:] or list(dict.fromkeys(r["model"] for r in rows))
    for model in models:
        w_th, desc, scale, unit = THEORY[model]
        mine = [r for r in rows if r["model"] == model]
        best = {}
        errors = {}
        for tool in TOOLS + sorted({r["tool"] for r in mine} - set(TOOLS)):
            ok = [r for r in mine if r["tool"] == tool and "error" not in r]
            bad = [r for r in mine if r["tool"] == tool and "error" in r]
            if ok:
                walls = sorted(r["wall_s"] for r in ok)
                med = statistics.median(walls)
                pick = min(ok, key=lambda r: abs(r["wall_s"] - med))
                best[tool] = dict(pick, wall_s=med, customers_per_s=pick["customers"] / med,
                                  n=len(ok), spread=(walls[-1] - walls[0]) / med if med else 0.0)
                if pick.get("events") is not None:
                    best[tool]["events_per_s"] = pick["events"] / med
            elif bad:
                errors[tool] = bad[-1]["error"]
        if not best and not errors:
            continue
        hz = next((r.get("horizon_s") for r in mine if r.get("horizon_s")), None)
        seed = next((r.get("seed") for r in mine if r.get("seed") is not None), None)
        print(f"\n== {model}: {desc}")
        print(f"   horizon {hz:g} s, warm-up 10 %, seed {seed}; theory W = {w_th * scale:.6f} {unit}")
        cap = best.get("capsim", {}).get("customers_per_s")
        hdr = (f"{'tool':<8} {'customers':>10} {'wall_s':>9} {'spread':>7} {'customers/s':>12} "
               f"{'events/s':>9} {'mean W (' + unit + ')':>11} {'theory':>9} {'rel err':>8} {'capsim/tool':>11}")
        print(hdr)
        print("-" * len(hdr))
        for tool in TOOLS + sorted(set(best) - set(TOOLS)):
            if tool in errors and tool not in best:
                print(f"{tool:<8} not available ({errors[tool]})")
                continue
            if tool not in best:
                continue
            b = best[tool]
            w = b.get("mean_response_s")
            wtxt = f"{w * scale:.5g}" if w is not None else "-"
            rel = f"{(w - w_th) / w_th * 100:+.2f} %" if w is not None else "-"
            ratio = f"{cap / b['customers_per_s']:.3g}x" if cap else "n/a"
            print(f"{tool:<8} {b['customers']:>10} {b['wall_s']:>9.4g} {b['spread'] * 100:>6.0f}% "
                  f"{rate(b['customers_per_s']):>12} {rate(b.get('events_per_s')):>9} {wtxt:>11} "
                  f"{w_th * scale:>9.5g} {rel:>8} {ratio:>11}")
        print(f"   wall_s: median of the repeats (n={max((b['n'] for b in best.values()), default=0)}); "
              "spread: (max - min) / median; capsim/tool: capsim customers/s / tool customers/s")
        print("   events/s: each tool's own event count (minimal: arrival at a station, service start, "
              "service end); not comparable across tools")


if __name__ == "__main__":
    main()
