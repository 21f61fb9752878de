#!/usr/bin/env python3
"""Part 5 of the series, a follower (SUB), ported to Python 3 and current pyzmq.

Subscribes to one account ("@_seraph1" or "@otro") and prints "->" and each tweet, for ever. The magazine
printed no receiver; the series' author wrote them.

    /usr/bin/python3 examples/series/part5_receiver.py tcp://127.0.0.1:5000 @_seraph1
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="SUB: print the tweets of one account.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5000", help="the relay's PUB (the series: port 5000)")
    parser.add_argument("account", nargs="?", default="@_seraph1", help="the account to follow")
    parser.add_argument("--count", type=int, default=None, help="exit after this many tweets")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds without a tweet")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.connect(args.endpoint)
    socket.setsockopt_string(zmq.SUBSCRIBE, args.account)
    received = 0
    try:
        while args.count is None or received < args.count:
            try:
                tweet = socket.recv_string()
            except zmq.Again:
                print(f"no tweet for {args.timeout} s; giving up", file=sys.stderr)
                return 2
            received += 1
            print(f"-> {tweet}", flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
