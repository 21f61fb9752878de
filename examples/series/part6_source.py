#!/usr/bin/env python3
"""Part 6 of the series, the source ("origen": PUSH), ported to Python 3 and current pyzmq.

Binds, says the workers must be started first and waits for Enter (raw_input became input), then pushes seven
greetings. The original binds tcp://*:5557, every interface; this port binds loopback unless told otherwise.
Closed with a linger, so that the last greetings still leave after the loop (pyzmq 24 does not wait at exit).

    /usr/bin/python3 examples/series/part6_source.py tcp://127.0.0.1:5557
"""
import argparse
import sys

import zmq

TEXTS = ["hola", "aloha", "hello", "buenas noches", "buenas tardes", "buenos dias", "bienvenido"]


def main() -> int:
    parser = argparse.ArgumentParser(description="PUSH: send seven greetings to the workers.")
    parser.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5557", help="where to bind (the series: *:5557)")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for Enter")
    args = parser.parse_args()

    ctx = zmq.Context()
    socket = ctx.socket(zmq.PUSH)
    socket.setsockopt(zmq.LINGER, 2000)
    socket.bind(args.endpoint)
    try:
        print("Start the workers first, then press Enter", flush=True)
        if not args.no_wait:
            input()
        print("Sending the tasks to the workers", flush=True)
        for text in TEXTS:
            socket.send_string(text)
            print(f"Enviando: {text}", flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        socket.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
