#!/usr/bin/env python3
"""Part 2 of the series, the client (PAIR), ported to Python 3 and current pyzmq.

Sends "mensaje 0" to "mensaje 99", printing "Enviando", and waits for each echo ("Recibido"). Run a second one
while the first runs: it prints its first "Enviando" and then waits for ever (--timeout to give up).

    /usr/bin/python3 examples/series/part2_client.py tcp://127.0.0.1:5555
"""
import argparse
import sys
import time

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PAIR: send 100 messages, each waiting for its echo.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5555", help="the server (the series: port 5555)")
    parser.add_argument("--rounds", type=int, default=100, help="how many messages (the series: 100)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between rounds (the series: none)")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds without an echo")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.PAIR)
    socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        socket.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    socket.connect(args.endpoint)
    try:
        for i in range(args.rounds):
            text = f"mensaje {i}"
            socket.send_string(text)
            print(f"Enviando: {text}", flush=True)
            try:
                echo = socket.recv_string()
            except zmq.Again:
                print(f"no echo for {args.timeout} s; giving up", file=sys.stderr)
                return 2
            print(f"Recibido: {echo}", flush=True)
            if args.pause:
                time.sleep(args.pause)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
