#!/usr/bin/env python3
"""Part 8 of the series, the producer (PUB over epgm), ported to Python 3 and current pyzmq.

Reads lines (prompt "->"), prints and publishes each one; "salir" is sent and ends it. The original CONNECTS a
PUB to epgm://192.168.10.96:5000, the author's own address: epgm needs libzmq built with OpenPGM (Debian's
python3-zmq has it: zmq.has("pgm")), a network interface with that address and a network that carries multicast,
e.g. epgm://127.0.0.1;239.192.1.1:5000 on loopback. Over tcp one side must bind: --bind.

    /usr/bin/python3 examples/series/part8_producer.py "epgm://127.0.0.1;239.192.1.1:5000"
    /usr/bin/python3 examples/series/part8_producer.py tcp://127.0.0.1:5000 --bind
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PUB: publish the lines typed, until 'salir'.")
    parser.add_argument("endpoint", nargs="?", default="epgm://127.0.0.1;239.192.1.1:5000", help="where to publish")
    parser.add_argument("--bind", action="store_true", help="bind instead of connecting (tcp, ipc)")
    args = parser.parse_args()

    if args.endpoint.startswith(("epgm://", "pgm://")) and not zmq.has("pgm"):
        print("this libzmq has no PGM: use tcp:// with --bind", file=sys.stderr)
        return 2
    ctx = zmq.Context()
    socket = ctx.socket(zmq.PUB)
    # The original's LINGER 0 may drop the last "salir" on close; a short linger lets it leave.
    socket.setsockopt(zmq.LINGER, 1000)
    if args.bind:
        socket.bind(args.endpoint)
    else:
        socket.connect(args.endpoint)
    try:
        while True:
            try:
                line = input("->")
            except EOFError:
                return 0
            print(line, flush=True)
            socket.send_string(line)
            if line == "salir":
                return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
