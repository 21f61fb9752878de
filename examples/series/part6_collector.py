#!/usr/bin/env python3
"""Part 6 of the series, the collector ("resultado": PULL), ported to Python 3 and current pyzmq.

Binds and prints "Recibo:" and every result the workers push, for ever. The original binds tcp://*:5558, every
interface; this port binds loopback unless told otherwise.

    /usr/bin/python3 examples/series/part6_collector.py tcp://127.0.0.1:5558
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PULL the workers' results.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5558", help="where to bind (the series: *:5558)")
    parser.add_argument("--count", type=int, default=None, help="exit after this many results")
    parser.add_argument("--timeout", type=float, default=None, help="exit after this many seconds without a result")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.PULL)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.bind(args.endpoint)
    received = 0
    try:
        while args.count is None or received < args.count:
            try:
                text = socket.recv_string()
            except zmq.Again:
                return 0
            received += 1
            print(f"Recibo:{text}", flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
