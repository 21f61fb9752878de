#!/usr/bin/env python3
"""Part 5 of the series, the relay ("tuiter": REP and PUB), ported to Python 3 and current pyzmq.

Receives a tweet on its REP socket, echoes it back to the sender, prints "Reenvio:" and publishes it unchanged
on its PUB socket, for ever.

    /usr/bin/python3 examples/series/part5_relay.py tcp://127.0.0.1:4000 tcp://127.0.0.1:5000
"""
import argparse
import sys

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="REP in, echo back, PUB out.")
    parser.add_argument("requests", nargs="?", default="tcp://127.0.0.1:4000", help="where the REP binds (the series: 4000)")
    parser.add_argument("publish", nargs="?", default="tcp://127.0.0.1:5000", help="where the PUB binds (the series: 5000)")
    parser.add_argument("--timeout", type=float, default=None, help="exit after this many seconds without a tweet")
    args = parser.parse_args()

    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    pub = ctx.socket(zmq.PUB)
    for socket in (rep, pub):
        socket.setsockopt(zmq.LINGER, 0)
    if args.timeout is not None:
        rep.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    rep.bind(args.requests)
    pub.bind(args.publish)
    try:
        while True:
            try:
                tweet = rep.recv_string()
            except zmq.Again:
                return 0
            rep.send_string(tweet)
            print(f"Reenvio: {tweet}", flush=True)
            pub.send_string(tweet)
    except KeyboardInterrupt:
        return 130
    finally:
        rep.close()
        pub.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
