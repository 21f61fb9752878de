#!/usr/bin/env python3
"""The zguide's task sink (PULL), as a learner would write it in Python with pyzmq: our own code, for the bench
(`npm run bench -- --case trio`).

Binds, waits for the ventilator's start-of-batch message, starts its clock, prints a line per result (flushed, as
the guide's sink prints its progress; the bench sends stdout to a file), and after --tasks results prints the
elapsed time as its last line, "elapsed <seconds> s", after a line with its own CPU time. Bounded: exits (status 1) after --timeout seconds without a
message.

    /usr/bin/python3 tasksink.py --tasks 100000
"""
import argparse
import sys
import time

import zmq


def main() -> int:
    parser = argparse.ArgumentParser(description="PULL the workers' results and time the batch.")
    parser.add_argument("--bind", default="tcp://127.0.0.1:*", help="where to bind (loopback)")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    ctx = zmq.Context()
    receiver = ctx.socket(zmq.PULL)
    receiver.setsockopt(zmq.LINGER, 0)
    receiver.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    receiver.bind(args.bind)
    print(f"bound {receiver.getsockopt_string(zmq.LAST_ENDPOINT)}", file=sys.stderr, flush=True)
    try:
        receiver.recv()  # the batch starts
        started = time.monotonic()
        for _ in range(args.tasks):
            worker, task_id = receiver.recv_multipart()
            print(f"Result of task {task_id.decode()} from {worker.decode()}", flush=True)
        elapsed = time.monotonic() - started
        # The bench adds this process's CPU time (all its threads, start-up included) to the others'.
        print(f"cpu {time.process_time():.6f} s", flush=True)
        print(f"elapsed {elapsed:.6f} s", flush=True)
        return 0
    except zmq.Again:
        print("timed out waiting for results", file=sys.stderr, flush=True)
        return 1
    finally:
        receiver.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
