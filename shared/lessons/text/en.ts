import type { LessonText } from '../types.ts';

/** English texts of the lessons, by lesson id. */
export const LESSON_TEXT_EN: Readonly<Record<string, LessonText>> = {
  tutorial: {
    title: '1. The tutorial: one PUSH socket on tcp and ipc',
    explanation: [
      'A PUSH socket (the ventilator) binds tcp://127.0.0.1:12345 and sends "1", "2", "3". Then the same socket also binds ipc:///tmp/zmqdemo and sends nine texts. One PULL client connects over tcp, the other over ipc; each stops at its "x".',
      'ZeroMQ round-robins among the peers connected at each moment. The ipc client can only share once the ipc endpoint exists and its connection has completed; until then everything goes to the tcp client.',
      'The lesson starts with no pause between messages (a burst). Press Run and look at the ipc worker.',
    ],
    goal: 'Both workers receive messages, and each stops at its own "x".',
    hint: 'In a burst all twelve messages leave before the ipc client has connected (it retries every 100-200 ms). Give it time: set an interval between messages. The tutorial paused a whole second; a few hundred milliseconds are enough.',
    solution: "Set the interval to 100 ms (or the tutorial's 1 s) and run again.",
  },
  'divide-and-conquer': {
    title: '2. Divide and conquer',
    explanation: [
      "The zguide's classic: a ventilator sends 100 tasks, each one 1-100 ms of work; workers process them in parallel and PUSH results to a sink, which measures how long the batch took.",
      'With one worker the batch takes about the sum of all the work (≈5 s). Every extra worker divides it, as long as the start is synchronised so that they all get their share.',
      "Run it with 1, 2 and 4 workers: the table compares your batch times with the zguide's.",
    ],
    goal: 'All 100 results reach the sink with 4 or more workers, in less than half the time the work itself takes (about 5 s in all).',
    hint: 'Add workers with the same work time (1-100 ms) until there are four, and keep "Synchronise the start" on so that each gets its share from the first task.',
    solution: 'Four workers at 1-100 ms with the sink on: about 1.2-1.4 s here (the zguide measured 1018 ms).',
  },
  'slow-joiner': {
    title: '3. The slow joiner',
    explanation: [
      'worker-1 runs inside the server and connects within a millisecond; worker-2 and worker-3 run as their own processes, so each takes a few hundred milliseconds to start and connect. The ventilator starts sending as soon as it can.',
      'A PUSH socket only round-robins among peers that have completed their connection. The first worker to connect receives the whole burst before the others arrive: "PUSH sockets don\'t load balance", people say, when the truth is they were never connected.',
    ],
    goal: 'Every worker receives at least a quarter of the batch.',
    hint: 'Make the ventilator wait until every worker has shaken hands before its first send: one switch in the batch settings does that.',
    solution: 'Switch "Synchronise the start" on: the split becomes 100 / 100 / 100.',
  },
  'fast-and-slow': {
    title: '4. Fast and slow workers',
    explanation: [
      'One worker needs 100 ms per task, the other 10 ms. PUSH does not know how fast its peers are: it deals tasks in turn to every pipe that has room.',
      "With the default high-water mark (1000 messages per pipe) and the kernel's buffers, every pipe always has room, so the slow worker gets exactly half and the batch waits for it.",
    ],
    goal: 'The fast worker processes at least twice as many tasks as the slow one.',
    hint: "PUSH skips a pipe that is full, so make the slow worker's pipe fill up: move both workers to inproc (a transport without kernel buffers) and set the ventilator's send HWM and the workers' receive HWM to 1.",
    solution:
      "Move both workers to inproc and set the ventilator's send HWM and the workers' receive HWM to 1: about 6 / 34.",
  },
  backpressure: {
    title: '5. Backpressure',
    explanation: [
      "Each pipe holds at most its high-water mark of messages (over inproc: the sender's plus the receiver's). When every pipe is full, send() waits: the ventilator is blocked until a worker takes a task.",
      'Here one worker needs 200 ms per task. With the default HWM of 1000 the whole batch of 10 fits in the pipe, and the ventilator never notices how slow the worker is.',
    ],
    goal: 'See the ventilator blocked by backpressure before its last send.',
    hint: "Shrink the pipe until the batch of 10 no longer fits: set the ventilator's send HWM and the worker's receive HWM to a few messages each.",
    solution: 'Set both HWMs to 1: the inproc pipe holds 2 tasks, the worker holds 1, and the fourth send blocks.',
  },
  'worker-dies': {
    title: '6. A worker dies',
    explanation: [
      'worker-2 runs as its own process, and in this lesson it is killed (SIGKILL) shortly after the tenth task is sent, whatever you do.',
      'ZeroMQ does not re-route what was queued for a dead peer: the tasks in its pipe (and the one it was working on) are lost. Only what had not been sent yet goes to the survivors.',
    ],
    goal: 'Finish the batch with no task lost, although worker-2 dies.',
    hint: 'Two things die with a worker: the tasks waiting in its pipe, and the one in its hands. Pace the ventilator with an interval longer than the work, so that nothing waits, and make worker-2 quick (a few milliseconds per task), so that it is idle when it is killed.',
    solution:
      'Pace the ventilator (interval 100 ms) and make worker-2 fast (0 ms): when it dies its pipe is empty, and the rest of the batch goes to worker-1.',
  },
  'fair-queuing': {
    title: '7. Fair-queuing at the sink',
    explanation: [
      "The sink's PULL socket reads from all its workers in turn: fair-queuing. One busy worker cannot starve the others, and results from every worker arrive interleaved.",
      'This pipeline has no sink yet: the results go nowhere.',
    ],
    goal: "Every result reaches the sink, with both workers' results interleaved from the start.",
    hint: 'The results go nowhere: switch the sink on.',
    solution: 'Enable the sink and run: it collects all 100 results, alternating between the workers.',
  },
};
