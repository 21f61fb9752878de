#!/usr/bin/env python3
"""Part 3 of the series, the client (one REQ socket, three servers), ported to Python 3 and current pyzmq.

The post speaks of three sockets; the code has one REQ socket connected three times, and so does this port. It
sends "mensaje 0" to "mensaje 99", printing "Enviando", and waits for each echo: the requests go round-robin over
the three servers, in connect order.

    /usr/bin/python3 examples/series/part3_client.py tcp://127.0.0.1:5000 tcp://127.0.0.1:6000 tcp://127.0.0.1:7000
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="REQ connected to several REP servers: 100 requests.")
    parser.add_argument("endpoints", nargs="*",
                        default=["tcp://127.0.0.1:5000", "tcp://127.0.0.1:6000", "tcp://127.0.0.1:7000"],
                        help="the servers, in connect order")
    parser.add_argument("--rounds", type=int, default=100, help="how many requests (the series: 100)")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds without a reply")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    for endpoint in args.endpoints:
        socket.connect(endpoint)
    try:
        for i in range(args.rounds):
            text = f"mensaje {i}"
            socket.send_string(text)
            print(f"Enviando: {text}", flush=True)
            try:
                socket.recv_string()
            except zmq.Again:
                print(f"no reply for {args.timeout} s; giving up", file=sys.stderr)
                return 2
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
