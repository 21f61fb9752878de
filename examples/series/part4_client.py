#!/usr/bin/env python3
"""Part 4 of the series, a fan (SUB), ported to Python 3 and current pyzmq.

Subscribes to two countries (the first client "argentina" and "venezuela", the second "brasil" and "alemania"),
prints each match it gets and sleeps a second; stops after 89 messages, which, with about 45 matches in 179
messages, never come: it waits for ever (--timeout to give up). setsockopt_string: a subscription is bytes in
Python 3.

    /usr/bin/python3 examples/series/part4_client.py tcp://127.0.0.1:5000 argentina venezuela
"""
import argparse
import sys
import time

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="SUB: print the match events of two countries.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5000", help="the narrator (the series: port 5000)")
    parser.add_argument("prefixes", nargs="*", default=["argentina", "venezuela"], help="what to subscribe to")
    parser.add_argument("--max", type=int, default=89, help="stop after this many messages (the series: 89)")
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds to sleep after each message (the series: 1)")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds without a message")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.connect(args.endpoint)
    for prefix in args.prefixes:
        socket.setsockopt_string(zmq.SUBSCRIBE, prefix)
    try:
        for counter in range(1, args.max + 1):
            try:
                message = socket.recv_string()
            except zmq.Again:
                print(f"no message for {args.timeout} s after {counter - 1}; giving up", file=sys.stderr)
                return 2
            print(counter, "->", message, flush=True)
            time.sleep(args.sleep)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
