import type { LessonText } from '../types.ts';

/** English texts of the series' lessons on the patterns page (shared/lessons/graph-lessons.ts), by lesson id. */
export const GRAPH_LESSON_TEXT_EN: Readonly<Record<string, LessonText>> = {
  'series-1-sums': {
    title: 'Part 1: an adding server that stops on "q"',
    explanation: [
      'The client (REQ) sends "a:b" and waits for the sum; the server (REP) adds and replies. REQ and REP strictly alternate: a request, its reply, the next request.',
      'In the series the client ends by sending "q" without waiting for an answer, and the server stops when it reads it. This start sends five sums and then nothing: the server waits for ever.',
    ],
    goal: 'The server answers 5 sums, then stops on "q".',
    hint: 'The client has to tell the server it is done: after its five sums it sends one last message, "q", without waiting for a reply.',
    solution: 'Load the solution: the client sends its five sums, then "q"; the server stops on it.',
  },
  'series-2-pair': {
    title: 'Part 2: PAIR is exclusive',
    explanation: [
      'A PAIR socket talks to exactly one peer. The server echoes what its client sends; the client waits for each echo.',
      "The series says a second client makes the server fail. With today's libzmq nothing fails loudly: the second connection is dropped, and the second client waits for an echo that never comes. The page shows that refusal.",
    ],
    goal: 'See a second PAIR peer refused while the first one is served.',
    hint: 'Connect a second PAIR client to the same server while the first one runs (start it after the first one has its first echo).',
    solution:
      'Load the solution: client-2 connects once client-1 is served, and the server refuses it (pair-exclusive).',
  },
  'series-3-spread': {
    title: 'Part 3: one REQ, three REP',
    explanation: [
      'One REQ socket can connect to several REP servers: it sends its requests round-robin, one to each in turn, in the order it connected.',
      "This start's client knows only one server, which gets every request.",
    ],
    goal: 'The requests spread evenly over three REP servers (at most one apart).',
    hint: 'Connect the client to three REP servers (the series runs them on ports 5000, 6000 and 7000).',
    solution: 'Load the solution: the client connects to three servers and 30 requests go 10 / 10 / 10.',
  },
  'series-4-filter': {
    title: 'Part 4: a fan who follows one country',
    explanation: [
      'The narrator (PUB) publishes "country event" every few moments. A subscriber (SUB) receives only messages that start with one of its prefixes; over tcp the publisher does the filtering, so the rest never leave it.',
      'This start\'s fan subscribes to "" (the empty prefix): it receives everything.',
    ],
    goal: "A subscriber with a filter receives only its country's matches, and the narrator filters the others for it.",
    hint: 'Change the fan\'s prefix from "" to one country, for example "argentina".',
    solution:
      'Load the solution: fan-1 subscribes to "argentina"; it gets only those matches and the rest are filtered at the narrator.',
  },
  'series-5-relay': {
    title: 'Part 5: a relay that replies and publishes',
    explanation: [
      'The sender REQs tweets to a relay; the relay REPlies to each one and also PUBlishes it, and each follower subscribes to one account.',
      "This start's relay only replies: the sender is answered, but the followers get nothing.",
    ],
    goal: "Every tweet is answered, and each follower receives all of its account's tweets, and only those.",
    hint: 'Make the relay also send every tweet it receives on through its PUB socket (relay-pub): forward it there.',
    solution:
      'Load the solution: the relay forwards each tweet to relay-pub; "@_seraph1" and "@otro" each get their two.',
  },
  'series-6-wait': {
    title: 'Part 6: wait for the workers',
    explanation: [
      'The source PUSHes seven greetings to two workers, which upper-case them and PUSH them on to a collector. PUSH deals only to the peers connected at that moment.',
      'Here worker-2 starts half a second late, as a program started a moment after the others. The series waits for Enter before sending; this start does not wait.',
    ],
    goal: 'The sender waits for both workers: each gets 3 or 4 greetings, and the collector gets all 7.',
    hint: 'Make the source wait until two peers have shaken hands with it before its first send.',
    solution: 'Load the solution: the source waits for 2 peers; the work splits 4 / 3.',
  },
  'series-7-share': {
    title: 'Part 7: give the ipc client its share',
    explanation: [
      'The server has one PUSH socket: it binds tcp and sends "1", "2", "3", then binds ipc on the same socket and sends nine texts, the last two "x". One PULL client connects over tcp, the other over ipc; each stops at its own "x".',
      'PUSH round-robins among the peers connected at each moment. The ipc client has been retrying its connection since the start, but can only join once the ipc endpoint exists and its handshake is done. This start sends everything at once (a burst), where the tutorial paused a second after each message.',
    ],
    goal: 'Both clients receive messages, and each stops at its own "x".',
    hint: 'In a burst all twelve messages are queued before the ipc client has connected (it retries every 100-200 ms): the tcp client takes them all, and the second "x" is lost with it. Give the server a pause between messages: a few hundred milliseconds are enough.',
    solution:
      'Load the solution: the server pauses 300 ms after each message; the texts alternate once the ipc client has joined, and each client gets its "x".',
  },
  'series-8-tcp': {
    title: 'Part 8: multicast, honestly over tcp',
    explanation: [
      "The series runs this PUB/SUB pair over epgm (PGM multicast). This server's libzmq has no PGM: the run's capabilities say pgm is false, and an epgm endpoint is refused. So the same programs run over tcp, and the page says so.",
      'The consumer subscribes to "prueba", "hora" and "salir", and stops at exactly "salir" ("salir ya" passes the filter but does not stop it). This start\'s consumer forgot "salir".',
    ],
    goal: 'Over tcp, the consumer receives its lines and stops at exactly "salir", after "salir ya" passed.',
    hint: 'Add the prefix "salir" to the consumer\'s subscriptions: it can only stop on a message that reaches it.',
    solution: 'Load the solution: the consumer subscribes to "prueba", "hora" and "salir", and stops at "salir".',
  },
};
