#!/usr/bin/env python3
"""The zguide's task ventilator (PUSH), as a learner would write it in Python with pyzmq: our own code, for the
bench (`npm run bench -- --case trio`), not a copy of the guide's.

Binds a PUSH on tcp and on ipc for the workers, connects a PUSH to the sink, waits until the expected number of
workers and the sink have shaken hands (the guide asks for Enter instead), tells the sink that the batch starts,
then sends the batch: one message per task, [task id, body], the playground's framing. Loopback only. Bounded:
gives up after --timeout seconds waiting for workers, and a send blocked that long ends the program.

    /usr/bin/python3 taskvent.py --ipc ipc:///tmp/vent.ipc --sink tcp://127.0.0.1:5558 --tasks 100000
"""
import argparse
import select
import sys
import time

import zmq
from zmq.utils.monitor import recv_monitor_message


def main() -> int:
    parser = argparse.ArgumentParser(description="PUSH a batch of numbered tasks to the workers.")
    parser.add_argument("--tcp", default="tcp://127.0.0.1:*", help="tcp endpoint to bind (loopback)")
    parser.add_argument("--ipc", required=True, help="ipc endpoint to bind")
    parser.add_argument("--sink", required=True, help="the sink's address (told when the batch starts)")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="handshakes to wait for before sending")
    parser.add_argument("--payload-bytes", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for peers or a blocked send")
    parser.add_argument("--hold", action="store_true", help="after the batch, stay until stdin closes (at most --timeout)")
    args = parser.parse_args()

    ctx = zmq.Context()
    sender = ctx.socket(zmq.PUSH)
    sender.setsockopt(zmq.LINGER, int(args.timeout * 1000))  # the last tasks still leave after the loop
    sender.setsockopt(zmq.SNDTIMEO, int(args.timeout * 1000))
    monitor = sender.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    monitor.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    sender.bind(args.tcp)
    tcp = sender.getsockopt_string(zmq.LAST_ENDPOINT)
    sender.bind(args.ipc)
    sink = ctx.socket(zmq.PUSH)
    sink.setsockopt(zmq.LINGER, int(args.timeout * 1000))
    sink_monitor = sink.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    sink_monitor.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    sink.connect(args.sink)
    # The bench reads where to point the workers from this line.
    print(f"bound {tcp} {args.ipc}", file=sys.stderr, flush=True)
    try:
        for _ in range(args.workers):
            recv_monitor_message(monitor)
        sender.disable_monitor()
        # Connected to the sink before the start message goes: otherwise a worker's first result could reach the
        # sink ahead of it (another pipe) and the sink would take a result for the start.
        recv_monitor_message(sink_monitor)
        sink.disable_monitor()
        print("Sending tasks to workers...", flush=True)
        sink.send(b"0")  # the batch starts: the sink starts its clock
        padding = "x" * args.payload_bytes
        started = time.monotonic()
        for task in range(args.tasks):
            sender.send_multipart([str(task).encode(), f"task {task} {padding}".encode()])
        print(f"Sent {args.tasks} tasks in {(time.monotonic() - started) * 1000:.0f} ms", flush=True)
        if args.hold:
            # Closing with a linger is meant to deliver what is still queued, but here (pyzmq 24, libzmq 4.3.4)
            # the tail of the ipc worker's queue was lost when this process ended first: 305-825 of 50,000 tasks.
            # The guide's ventilator sleeps a second "to deliver"; this one stays until the bench has its results.
            select.select([sys.stdin], [], [], args.timeout)
        return 0
    except zmq.Again:
        print("timed out (no workers, or a send blocked)", file=sys.stderr, flush=True)
        return 1
    finally:
        monitor.close()
        sink_monitor.close()
        sender.close()
        sink.close()
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())
