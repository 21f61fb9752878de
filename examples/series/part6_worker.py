#!/usr/bin/env python3
"""Part 6 of the series, a worker (PULL in, PUSH out), ported to Python 3 and current pyzmq.

Receives a greeting from the source, prints "Proceso:" and it, pushes it upper-cased to the collector, sleeps a
second, for ever. zmq.UPSTREAM and zmq.DOWNSTREAM no longer exist: they are zmq.PULL and zmq.PUSH.

    /usr/bin/python3 examples/series/part6_worker.py tcp://localhost:5557 tcp://localhost:5558
"""
import argparse
import sys
import time

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PULL a greeting, PUSH it upper-cased.")
    parser.add_argument("source", nargs="?", default="tcp://localhost:5557", help="the source (the series: 5557)")
    parser.add_argument("collector", nargs="?", default="tcp://localhost:5558", help="the collector (the series: 5558)")
    parser.add_argument("--work", type=float, default=1.0, help="seconds per greeting (the series: 1)")
    parser.add_argument("--timeout", type=float, default=None, help="exit after this many seconds without work")
    args = parser.parse_args()

    ctx = zmq.Context()
    receiver = ctx.socket(zmq.PULL)
    sender = ctx.socket(zmq.PUSH)
    receiver.setsockopt(zmq.LINGER, 0)
    sender.setsockopt(zmq.LINGER, 2000)
    if args.timeout is not None:
        receiver.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    receiver.connect(args.source)
    sender.connect(args.collector)
    try:
        while True:
            try:
                text = receiver.recv_string()
            except zmq.Again:
                return 0
            print(f"Proceso:{text}", flush=True)
            sender.send_string(text.upper())
            time.sleep(args.work)
    except KeyboardInterrupt:
        return 130
    finally:
        receiver.close()
        sender.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
