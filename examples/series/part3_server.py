#!/usr/bin/env python3
"""Part 3 of the series, one of the three servers (REP), ported to Python 3 and current pyzmq.

The three original scripts differ only in their port (5000, 6000, 7000): here the endpoint is an argument.
Receives, prints "Recibiendo", echoes back, for ever.

    /usr/bin/python3 examples/series/part3_server.py tcp://127.0.0.1:5000
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="REP: echo every request.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5000", help="where to bind (5000, 6000 or 7000)")
    parser.add_argument("--timeout", type=float, default=None, help="exit after this many seconds without a request")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.REP)
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
            print(f"Recibiendo: {message}", flush=True)
            socket.send_string(message)
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
