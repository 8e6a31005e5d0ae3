#!/usr/bin/env python3
"""Ciw peer for capsim's speed comparison.

Builds the model with `ciw.create_network` (Exponential distributions, a routing
matrix for the network), times `Simulation.simulate_until_max_time(horizon)` only,
then reads the customers that reached the exit node and prints one JSON line.
Models and output: see README.md in this folder.
"""
import argparse
import json
import time

import ciw
from ciw.dists import Exponential


def network_mm3():
    """M/M/3: Poisson 2.55/s, 3 servers, exponential service of mean 1 s."""
    return ciw.create_network(
        arrival_distributions=[Exponential(rate=2.55)],
        service_distributions=[Exponential(rate=1.0)],
        number_of_servers=[3],
    )


def network_tier3():
    """Poisson 200/s -> lb (1 x 1 ms) -> app (8 x 30 ms) -> 30 %: db (4 x 10 ms) -> exit."""
    return ciw.create_network(
        arrival_distributions=[Exponential(rate=200.0), None, None],
        service_distributions=[
            Exponential(rate=1 / 0.001),
            Exponential(rate=1 / 0.030),
            Exponential(rate=1 / 0.010),
        ],
        number_of_servers=[1, 8, 4],
        routing=[
            [0.0, 1.0, 0.0],  # lb  -> app
            [0.0, 0.0, 0.3],  # app -> db with p = 0.3, else exit
            [0.0, 0.0, 0.0],  # db  -> exit
        ],
    )


MODELS = {"mm3": network_mm3, "tier3": network_tier3}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--horizon", type=float, required=True, help="simulated seconds")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    ciw.seed(args.seed)
    sim = ciw.Simulation(MODELS[args.model]())

    t0 = time.perf_counter()
    sim.simulate_until_max_time(args.horizon)
    wall = time.perf_counter() - t0

    # Customers that left the system before the horizon; response time runs from
    # the first record's arrival to the last record's exit.
    warmup = 0.1 * args.horizon
    finished = sim.nodes[-1].all_individuals
    measured = 0
    total = 0.0
    for ind in finished:
        recs = ind.data_records
        out = recs[-1].exit_date
        if out > warmup:
            measured += 1
            total += out - recs[0].arrival_date
    n = len(finished)
    print(json.dumps({
        "tool": "ciw",
        "model": args.model,
        "customers": n,
        "wall_s": wall,
        "customers_per_s": n / wall,
        "mean_response_s": total / measured if measured else None,
    }))


if __name__ == "__main__":
    main()
