#!/usr/bin/env python3
"""The tutorial's server (part 7), ported to Python 3 and current pyzmq.

One PUSH socket (zmq.DOWNSTREAM was renamed zmq.PUSH) binds tcp, sends 1, 2, 3
one per second, then binds ipc on the SAME socket and sends the nine texts.
Run it instead of the playground to compare with what the playground shows:

    /usr/bin/python3 examples/tutorial_server.py
"""
import argparse
import os
import sys
from time import sleep

import zmq

TEXTS = ("Esta es una prueba,1", "Desde zeroMQ,2", "Sigo probando,3", "Prueba...,4",
         "q,5", "1,6", "q,7", "x", "x")


def main() -> int:
    parser = argparse.ArgumentParser(description="The tutorial's ventilator.")
    parser.add_argument("--tcp", default="tcp://127.0.0.1:12345")
    parser.add_argument("--ipc", default="ipc:///tmp/zmqdemo")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between messages (default 1)")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.PUSH)
    # Wait at most 5 s at exit for undelivered messages instead of forever.
    socket.setsockopt(zmq.LINGER, 5000)
    socket.bind(args.tcp)
    for number in range(1, 4):
        socket.send_string(str(number))
        print(f"Enviado {number}", flush=True)
        sleep(args.interval)
    socket.bind(args.ipc)
    for text in TEXTS:
        socket.send_string(text)
        print(f"Enviado {text}", flush=True)
        sleep(args.interval)
    socket.close()
    ctx.term()
    if args.ipc.startswith("ipc://"):
        # libzmq leaves the socket file behind; the tutorial never removed it.
        try:
            os.unlink(args.ipc[len("ipc://"):])
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
