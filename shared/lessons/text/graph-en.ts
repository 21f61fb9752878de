import type { GraphLessonText } from '../types.ts';

/**
 * English texts of the series' lessons on the patterns page (shared/lessons/graph-lessons.ts), by lesson id. A hint
 * names the page's control that makes its change (the card's title as the page shows it); a lesson no control can
 * do says so, and that "Load the solution" shows it. `described` is what the page says above the diagram when the
 * lesson's start or solution is loaded instead of the series' original.
 */
export const GRAPH_LESSON_TEXT_EN: Readonly<Record<string, GraphLessonText>> = {
  'series-1-sums': {
    title: 'Part 1: the client waits for every reply',
    explanation: [
      'The client (REQ) sends "a:b" and waits for the sum; the server (REP) adds and replies. REQ and REP strictly alternate: a request, its reply, the next request. At the end the client sends "q" without waiting, and the server stops on it.',
      "This start's server answers at once, so the five sums fly by. The client has no pause of its own: slow the server, and the client can only go as fast as the replies come.",
    ],
    goal: 'The server takes 200 ms or more over each of the 5 sums, the client waits for every reply before its next request, and the server stops on "q".',
    hint: 'Press "Load the start", then in the card "Slow a node, or move it to another transport" give server a work time of 250 ms ("Set pace"), and press Run.',
    solution:
      'Load the solution: the server works 250 ms on each sum; the client sends each next request only once its reply is back.',
    described: {
      start:
        'The client sends five sums "a:b" (numbers from 1 to 1000), waits for each reply, then sends "q" without waiting; the server adds and replies at once, and stops on "q".',
      solution:
        'The same five sums and "q", but the server takes 250 ms over each sum before it replies; the client waits for every reply.',
    },
  },
  'series-2-pair': {
    title: 'Part 2: PAIR is exclusive',
    explanation: [
      'A PAIR socket talks to exactly one peer. The server echoes what its client sends; the client waits for each echo.',
      "The series says a second client makes the server fail. With today's libzmq nothing fails loudly: the second connection is dropped, and the second client waits for an echo that never comes. The page shows that refusal.",
    ],
    goal: 'See a second PAIR peer refused while the first one is served.',
    hint: 'No control on this page adds a second PAIR peer: the "Add a node" card offers no socket for a PAIR that has its peer, because a PAIR takes one. What changes is the graph itself: a second client that connects to the same server once the first has its first echo. "Load the solution" loads it; then press Run.',
    solution:
      'Load the solution: client-2 connects once client-1 is served, and the server refuses it (pair-exclusive).',
    described: {
      start:
        'One client sends "mensaje 0" to "mensaje 29", 20 ms apart, and waits for each echo; the server (PAIR) echoes them. No second client.',
      solution:
        'Client-1 sends "mensaje 0" to "mensaje 29" and gets each echo; client-2 connects to the same server once client-1 is served, sends its first message and waits for ever: the server refuses it.',
    },
  },
  'series-3-spread': {
    title: 'Part 3: one REQ, three REP',
    explanation: [
      'One REQ socket can connect to several REP servers: it sends its requests round-robin, one to each in turn, in the order it connected.',
      "This start's client knows only one server, which gets every request.",
    ],
    goal: 'The 30 requests spread evenly over three REP servers or more (at most one apart).',
    hint: 'Between runs, use the "Add a node" card twice: link it to client, socket type REP, "Add the node". Each new server binds an endpoint of its own and the client connects to it. Then press Run. (A server added while the run flows only gets the requests sent after it: add them before.)',
    solution: 'Load the solution: the client connects to three servers and the 30 requests go 10 / 10 / 10.',
    described: {
      start: 'One REQ client sends "mensaje 0" to "mensaje 29" to one REP server, server-5000, which echoes each.',
      solution:
        'The REQ client is connected to three REP servers and sends "mensaje 0" to "mensaje 29": round-robin in connect order, 10 / 10 / 10.',
    },
  },
  'series-4-filter': {
    title: 'Part 4: a fan who follows one country',
    explanation: [
      'The narrator (PUB) publishes "country event" every few moments. A subscriber (SUB) receives only messages that start with one of its prefixes; over tcp the publisher does the filtering, so the rest never leave it.',
      'This start\'s fan subscribes to "" (the empty prefix): it receives everything.',
    ],
    goal: "A subscriber with a filter receives only its country's matches, and the narrator filters the others for it.",
    hint: 'In the "Subscriptions" card, change fan-1\'s prefixes from empty (everything) to one country, for example "argentina", and press Save; then Run.',
    solution:
      'Load the solution: fan-1 subscribes to "argentina"; it gets only those matches and the rest are filtered at the narrator.',
    described: {
      start:
        'The narrator publishes 40 random "country event" messages, 50 ms apart, once its one fan has connected; fan-1 subscribes to "" and gets them all.',
      solution:
        'The narrator publishes 40 random "country event" messages, 50 ms apart; fan-1 subscribes to "argentina" and gets only those, the narrator filters the rest.',
    },
  },
  'series-5-relay': {
    title: 'Part 5: a follower for each account',
    explanation: [
      'The sender REQs tweets to a relay; the relay REPlies to each one and also PUBlishes it, and each follower subscribes to one account.',
      'This start has a follower for "@_seraph1" only: the tweets of "@otro" are published, and the relay-pub filters them out, since nobody subscribed to them.',
    ],
    goal: "Every tweet is answered, and each account's tweets all reach a follower of that account, and only those.",
    hint: 'In the "Subscriptions" card, add a subscriber to relay-pub with the prefix "@otro" ("Add a subscriber"), then press Run. The sender starts a second late, so the new follower has subscribed before the first tweet.',
    solution:
      'Load the solution: follower-seraph subscribes to "@_seraph1" and follower-otro to "@otro"; each gets its account\'s two tweets.',
    described: {
      start:
        'The sender, a second after the start, REQs four tweets to the relay, which echoes each one and publishes it on relay-pub; one follower, follower-seraph, subscribes to "@_seraph1".',
      solution:
        'The same relay, and two followers: follower-seraph subscribes to "@_seraph1", follower-otro to "@otro".',
    },
  },
  'series-6-wait': {
    title: 'Part 6: the late worker',
    explanation: [
      'The source PUSHes seven greetings to two workers, which upper-case them and PUSH them on to a collector. PUSH deals only to the peers connected at that moment.',
      'Here worker-2 starts half a second late, as a program started a moment after the others. This start sends all seven at once: worker-1, the only peer then, takes them all.',
    ],
    goal: 'Both workers get a share of the greetings (2 or more each), and the collector gets all 7.',
    hint: 'In the card "Slow a node, or move it to another transport", give source an interval of 600 ms between messages ("Set pace"), then Run: by its second or third greeting worker-2 has connected and takes its turn. (The series does it another way: its source waits for both workers before it sends; no control sets that, "Load the solution" shows it.)',
    solution:
      "Load the solution: the series' way, the source waits until 2 peers have connected; the work splits 4 / 3.",
    described: {
      start:
        'The source pushes seven greetings at once, without waiting for anyone; each worker upper-cases what it gets (100 ms) and pushes it to the collector; worker-2 starts half a second late.',
      solution:
        'The source waits until both workers have connected, then pushes the seven greetings; worker-2 still starts half a second late.',
    },
  },
  'series-7-share': {
    title: 'Part 7: give the ipc client its share',
    explanation: [
      'The server has one PUSH socket: it binds tcp and sends "1", "2", "3", then binds ipc on the same socket and sends nine texts, the last two "x". One PULL client connects over tcp, the other over ipc; each stops at its own "x".',
      'PUSH round-robins among the peers connected at each moment. The ipc client has been retrying its connection since the start, but can only join once the ipc endpoint exists and its handshake is done. This start sends everything at once (a burst), where the tutorial paused a second after each message.',
    ],
    goal: 'Both clients receive messages, and each stops at its own "x".',
    hint: 'In a burst all twelve messages are queued before the ipc client has connected (it retries every 100-200 ms): the tcp client takes them all, and the second "x" is lost with it. In the card "Slow a node, or move it to another transport", give server an interval of 300 ms ("Set pace"), then Run.',
    solution:
      'Load the solution: the server pauses 300 ms after each message; the texts alternate once the ipc client has joined, and each client gets its "x".',
    described: {
      start:
        'The server binds tcp and sends "1", "2", "3", binds ipc on the same socket and sends the nine texts, all without a pause (a burst); one client PULLs over tcp, the other over ipc, each stops at "x".',
      solution:
        'The same server and clients, with a 300 ms pause after each message, so the ipc client joins in time for its share.',
    },
  },
  'series-8-tcp': {
    title: 'Part 8: multicast, honestly over tcp',
    explanation: [
      "The series runs this PUB/SUB pair over epgm (PGM multicast). This server's libzmq has no PGM: the run's capabilities say pgm is false, and an epgm endpoint is refused. So the same programs run over tcp, and the page says so.",
      'The consumer subscribes to "prueba", "hora" and "salir", and stops at exactly "salir" ("salir ya" passes the filter but does not stop it). This start\'s consumer forgot "salir".',
    ],
    goal: 'Over tcp, the consumer receives its lines and stops at exactly "salir", after "salir ya" passed.',
    hint: 'In the "Subscriptions" card, add "salir" to the consumer\'s prefixes ("prueba, hora, salir") and press Save, then Run: it can only stop on a message that reaches it.',
    solution: 'Load the solution: the consumer subscribes to "prueba", "hora" and "salir", and stops at "salir".',
    described: {
      start:
        'The producer publishes seven typed lines, 100 ms apart, over tcp; the consumer subscribes to "prueba" and "hora" only, and would stop at "salir".',
      solution:
        'The producer publishes the seven lines, 100 ms apart, over tcp; the consumer subscribes to "prueba", "hora" and "salir", and stops at exactly "salir".',
    },
  },
};
