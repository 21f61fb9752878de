#!/usr/bin/env python3
"""The zguide's task worker (PULL in, PUSH out), as a learner would write it in Python with pyzmq: our own code,
for the bench (`npm run bench -- --case trio`).

Takes a task ([task id, body]), prints a line for it (as the guide's worker prints its progress, flushed, so that
it shows at once; the bench sends stdout to a file), works --work-ms (0: none, as the playground's batch), and
PUSHes [worker id, task id] to the sink. Bounded: exits after --timeout seconds without a task, or with a result
that the sink does not take.

    /usr/bin/python3 taskwork.py worker-1 tcp://127.0.0.1:5557 tcp://127.0.0.1:5558
"""
import argparse
import sys
import time

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PULL a task, PUSH its result.")
    parser.add_argument("name", help="this worker's id, sent with each result")
    parser.add_argument("source", help="the ventilator's address")
    parser.add_argument("sink", help="the sink's address")
    parser.add_argument("--work-ms", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="exit after this many seconds without a task")
    args = parser.parse_args()

    ctx = zmq.Context()
    receiver = ctx.socket(zmq.PULL)
    receiver.setsockopt(zmq.LINGER, 0)
    receiver.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    receiver.connect(args.source)
    sender = ctx.socket(zmq.PUSH)
    sender.setsockopt(zmq.LINGER, 1000)
    sender.setsockopt(zmq.SNDTIMEO, int(args.timeout * 1000))  # a sink gone away must not hold the worker
    sender.connect(args.sink)
    name = args.name.encode()
    try:
        while True:
            try:
                task_id, body = receiver.recv_multipart()
            except zmq.Again:
                return 0
            print(f"Received task {task_id.decode()}: {body.decode()}", flush=True)
            if args.work_ms > 0:
                time.sleep(args.work_ms / 1000)
            sender.send_multipart([name, task_id])
    except zmq.Again:
        print("timed out sending a result (no sink)", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        receiver.close()
        sender.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
