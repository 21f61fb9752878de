#!/usr/bin/env python3
"""Part 2 of the series, the echo server (PAIR), ported to Python 3 and current pyzmq.

Echoes every message back to its one peer, for ever (Ctrl-C), printing "Recivo" (sic, as the original). A second
client is not an error with libzmq 4: it is never served, and nothing says so.

    /usr/bin/python3 examples/series/part2_server.py tcp://127.0.0.1:5555
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PAIR: echo what the one peer sends.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5555", help="where to bind (the series: port 5555)")
    parser.add_argument("--timeout", type=float, default=None, help="exit after this many seconds without a message")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.PAIR)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.bind(args.endpoint)
    try:
        while True:
            try:
                message = socket.recv_string()
            except zmq.Again:
                return 0
            print(f"Recivo: {message}", flush=True)
            socket.send_string(message)
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
