#!/usr/bin/env python3
"""Part 5 of the series, the sender ("emisor": REQ), ported to Python 3 and current pyzmq.

Sends four tweets in order, waiting for the relay's echo after each; prints nothing. Start the receivers first.

    /usr/bin/python3 examples/series/part5_sender.py tcp://127.0.0.1:4000
"""
import argparse
import sys

import zmq

TWEETS = ["@_seraph1 Esta es una prueba", "@otro viendo el juego", "@_seraph1 otra prueba", "@otro otro"]


def main() -> int:
    parser = argparse.ArgumentParser(description="REQ: send four tweets to the relay.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:4000", help="the relay (the series: port 4000)")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds without an echo")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.connect(args.endpoint)
    try:
        for tweet in TWEETS:
            socket.send_string(tweet)
            try:
                socket.recv_string()
            except zmq.Again:
                print(f"no echo for {args.timeout} s; giving up", file=sys.stderr)
                return 2
        return 0
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
