#!/usr/bin/env python3
"""Part 8 of the series, the consumer (SUB over epgm), ported to Python 3 and current pyzmq.

Subscribes to "prueba", "hora" and "salir", prints what it receives; exactly "salir" ends it ("salir ya" passes
the filter, but does not stop it). epgm needs PGM in libzmq (see part8_producer.py); over tcp it connects to a
producer started with --bind.

    /usr/bin/python3 examples/series/part8_consumer.py "epgm://127.0.0.1;239.192.1.1:5000"
    /usr/bin/python3 examples/series/part8_consumer.py tcp://127.0.0.1:5000
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="SUB: print what starts with prueba, hora or salir, until 'salir'.")
    parser.add_argument("endpoint", nargs="?", default="epgm://127.0.0.1;239.192.1.1:5000", help="where to listen")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds without a message")
    args = parser.parse_args()

    if args.endpoint.startswith(("epgm://", "pgm://")) and not zmq.has("pgm"):
        print("this libzmq has no PGM: use tcp://", file=sys.stderr)
        return 2
    ctx = zmq.Context()
    socket = ctx.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.connect(args.endpoint)
    for prefix in ("prueba", "hora", "salir"):
        socket.setsockopt_string(zmq.SUBSCRIBE, prefix)
    try:
        while True:
            try:
                message = socket.recv_string()
            except zmq.Again:
                print(f"no message for {args.timeout} s; giving up", file=sys.stderr)
                return 2
            print(message, flush=True)
            if message == "salir":
                return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
