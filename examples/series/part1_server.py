#!/usr/bin/env python3
"""Part 1 of the series, the adding server (REP), ported to Python 3 and current pyzmq.

Receives "a:b", replies with a + b as text; exactly "q" ends it without a reply. Python 3 receives bytes:
recv_string/send_string keep the comparison with "q" and the split on ":" working.

    /usr/bin/python3 examples/series/part1_server.py tcp://127.0.0.1:5000
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="REP: add the two numbers of each 'a:b' request; 'q' ends.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5000", help="where to bind (the series: port 5000)")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.REP)
    socket.setsockopt(zmq.LINGER, 0)
    socket.bind(args.endpoint)
    iteration = 0
    try:
        while True:
            message = socket.recv_string()
            if message == "q":
                return 0
            iteration += 1
            a, b = message.split(":")
            result = int(a) + int(b)
            print(f"Iteracion: {iteration} He recibido: {message} el resultado es: {result}", flush=True)
            socket.send_string(str(result))
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
