#!/usr/bin/env python3
"""The tutorial's client (part 7), ported to Python 3 and current pyzmq.

zmq.UPSTREAM no longer exists: it was renamed zmq.PULL. Messages are bytes in
Python 3, so they are decoded before printing and comparing with "x".

    /usr/bin/python3 examples/tutorial_client.py tcp://127.0.0.1:12345
    /usr/bin/python3 examples/tutorial_client.py ipc:///tmp/zmqdemo

Debian's python3-zmq works with /usr/bin/python3 (apt-get install python3-zmq).
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PULL messages from the playground's ventilator until 'x'.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:12345",
                        help="where the ventilator listens (default: the tutorial's tcp://127.0.0.1:12345)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="give up after this many seconds without a message (default: wait forever, "
                             "as the tutorial does)")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.PULL)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.connect(args.endpoint)
    try:
        while True:
            try:
                received = socket.recv().decode("utf-8", errors="replace")
            except zmq.Again:
                print(f"no message for {args.timeout} s; giving up", file=sys.stderr)
                return 2
            print(received, flush=True)
            if received == "x":
                return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
