#!/usr/bin/env python3
"""Part 1 of the series, the client (REQ), ported to Python 3 and current pyzmq.

1000 rounds: send "a:b" (two random numbers from 1 to 1000), wait for the sum, print the round; then "q", without
waiting for an answer. print is a function, and strings go out with send_string. pyzmq 24 does not wait at exit
for queued messages, so the socket closes with a linger: "q" would otherwise be a race.

    /usr/bin/python3 examples/series/part1_client.py tcp://127.0.0.1:5000
"""
import argparse
import random
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="REQ: ask the adding server, then send 'q'.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5000", help="the server (the series: port 5000)")
    parser.add_argument("--rounds", type=int, default=1000, help="how many sums to ask for (the series: 1000)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the random numbers")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds without a reply")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    ctx = zmq.Context()
    socket = ctx.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 1000)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.connect(args.endpoint)
    try:
        for i in range(args.rounds):
            a, b = rng.randint(1, 1000), rng.randint(1, 1000)
            socket.send_string(f"{a}:{b}")
            try:
                answer = socket.recv_string()
            except zmq.Again:
                print(f"no reply for {args.timeout} s; giving up", file=sys.stderr)
                return 2
            print(f"Iteracion: {i} Enviado: {a}:{b} Recibido: {answer}", flush=True)
        socket.send_string("q")
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
