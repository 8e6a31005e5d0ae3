#!/usr/bin/env python3
"""SimPy peer for capsim's speed comparison.

Runs one model idiomatically with SimPy (a `Resource` per station, one process per
customer, one source process), times `env.run(until=horizon)` only, and prints one
JSON line. Models and output: see README.md in this folder.
"""
import argparse
import json
import random
import time

import simpy


def build_mm3(env, rng, done):
    """M/M/3: Poisson 2.55/s, 3 servers, exponential service of mean 1 s."""
    server = simpy.Resource(env, capacity=3)
    expo = rng.expovariate

    def customer(env):
        born = env.now
        with server.request() as req:
            yield req
            yield env.timeout(expo(1.0))
        done(env.now, born)

    def source(env):
        while True:
            yield env.timeout(expo(2.55))
            env.process(customer(env))

    env.process(source(env))


def build_tier3(env, rng, done):
    """Poisson 200/s -> lb (1 x 1 ms) -> app (8 x 30 ms) -> 30 %: db (4 x 10 ms) -> exit."""
    lb = simpy.Resource(env, capacity=1)
    app = simpy.Resource(env, capacity=8)
    db = simpy.Resource(env, capacity=4)
    expo = rng.expovariate
    uniform = rng.random

    def customer(env):
        born = env.now
        with lb.request() as req:
            yield req
            yield env.timeout(expo(1 / 0.001))
        with app.request() as req:
            yield req
            yield env.timeout(expo(1 / 0.030))
        if uniform() < 0.3:
            with db.request() as req:
                yield req
                yield env.timeout(expo(1 / 0.010))
        done(env.now, born)

    def source(env):
        while True:
            yield env.timeout(expo(200.0))
            env.process(customer(env))

    env.process(source(env))


MODELS = {"mm3": build_mm3, "tier3": build_tier3}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--horizon", type=float, required=True, help="simulated seconds")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    warmup = 0.1 * args.horizon
    stats = {"customers": 0, "measured": 0, "sum_response": 0.0}

    def done(now, born):
        stats["customers"] += 1
        if now > warmup:
            stats["measured"] += 1
            stats["sum_response"] += now - born

    rng = random.Random(args.seed)
    env = simpy.Environment()
    MODELS[args.model](env, rng, done)

    t0 = time.perf_counter()
    env.run(until=args.horizon)
    wall = time.perf_counter() - t0

    n = stats["customers"]
    m = stats["measured"]
    print(json.dumps({
        "tool": "simpy",
        "model": args.model,
        "customers": n,
        "wall_s": wall,
        "customers_per_s": n / wall,
        "mean_response_s": stats["sum_response"] / m if m else None,
    }))


if __name__ == "__main__":
    main()
