#!/usr/bin/env python3
"""Part 4 of the series, the football narrator (PUB), ported to Python 3 and current pyzmq.

Publishes a random country and match event every second; the counter starts at 1 and the loop ends when it
reaches 180, so 179 messages. Messages published before a subscriber's subscription arrives are lost.

    /usr/bin/python3 examples/series/part4_server.py tcp://127.0.0.1:5000
"""
import argparse
import random
import sys
import time

import zmq

COUNTRIES = ["holanda", "brasil", "alemania", "portugal", "argentina", "italia", "rusia", "venezuela"]
EVENTS = ["tarjeta amarilla", "tarjeta roja", "gol", "corner", "falta"]


def main() -> int:
    parser = argparse.ArgumentParser(description="PUB: narrate random match events.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5000", help="where to bind (the series: port 5000)")
    parser.add_argument("--count", type=int, default=179, help="how many messages (the series: 179)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between messages (the series: 1)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the random choices")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    ctx = zmq.Context()
    socket = ctx.socket(zmq.PUB)
    socket.setsockopt(zmq.LINGER, 1000)
    socket.bind(args.endpoint)
    try:
        for counter in range(1, args.count + 1):
            message = f"{rng.choice(COUNTRIES)} {rng.choice(EVENTS)}"
            print("->", counter, message, flush=True)
            socket.send_string(message)
            time.sleep(args.interval)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
