/**
 * A graph node's program in Python 3 (pyzmq; Debian's python3-zmq runs it). Planned by graph-code.ts: this file
 * only writes the text. Every receive has a timeout (--timeout), so a program whose peers are gone ends instead of
 * waiting for ever.
 */
import type { SocketType, Transform } from '../protocol/index.ts';
import {
  GRAPH_CODE_WORDS,
  defaultCount,
  docLines,
  templateParts,
  type NodePlan,
  type SocketPlan,
} from './graph-code-parts.ts';

const q = (text: string) => JSON.stringify(text);

const PY_SOCKET: Readonly<Record<SocketType, string>> = {
  REQ: 'zmq.REQ',
  REP: 'zmq.REP',
  DEALER: 'zmq.DEALER',
  ROUTER: 'zmq.ROUTER',
  PUB: 'zmq.PUB',
  SUB: 'zmq.SUB',
  XPUB: 'zmq.XPUB',
  XSUB: 'zmq.XSUB',
  PUSH: 'zmq.PUSH',
  PULL: 'zmq.PULL',
  PAIR: 'zmq.PAIR',
};

function socketLines(name: string, plan: SocketPlan): string[] {
  const lines = [`${name} = ctx.socket(${PY_SOCKET[plan.socket]})`, `${name}.setsockopt(zmq.LINGER, 1000)`];
  lines.push(`${name}.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))`);
  if (plan.routingId !== undefined) lines.push(`${name}.setsockopt(zmq.ROUTING_ID, ${q(plan.routingId)}.encode())`);
  for (const prefix of plan.subscribe) lines.push(`${name}.setsockopt_string(zmq.SUBSCRIBE, ${q(prefix)})`);
  if (plan.socket === 'XSUB')
    for (const prefix of plan.subscribe) lines.push(`${name}.send(b"\\x01" + ${q(prefix)}.encode())`);
  for (const address of plan.binds) lines.push(`${name}.bind(${q(address)})`);
  for (const { address } of plan.connects) lines.push(`${name}.connect(${q(address)})`);
  return lines;
}

function transformExpression(kind: Transform | undefined, variable: string): string {
  switch (kind) {
    case 'uppercase':
      return `${variable}.upper()`;
    case 'sum':
      return `add(${variable})`;
    default:
      return variable;
  }
}

const ADD = `def add(text):
    """The series' part 1: "a:b" becomes the sum as text; anything else is kept."""
    try:
        a, b = text.split(":")
        return str(int(a) + int(b))
    except ValueError:
        return text
`;

/** A body(i) function for the role's messages, as the engine expands them (draws from Python's own generator). */
function bodyFunction(plan: NodePlan): string {
  const role = plan.node.role;
  if (role.kind !== 'request' && role.kind !== 'send') return '';
  const messages = role.messages;
  if (messages.kind === 'list') {
    return `MESSAGES = [${messages.items.map(q).join(', ')}]


def body(i):
    return MESSAGES[i % len(MESSAGES)]
`;
  }
  const pieces = templateParts(messages.template).map((part) => {
    switch (part.kind) {
      case 'text':
        return q(part.text);
      case 'index':
        return 'str(i)';
      case 'number':
        return 'str(i + 1)';
      case 'int':
        return `str(rng.randint(${part.min}, ${part.max}))`;
      case 'pick':
        return `rng.choice([${part.choices.map(q).join(', ')}])`;
    }
  });
  return `rng = random.Random(${messages.seed ?? 2012})


def body(i):
    return ${pieces.length > 0 ? pieces.join(' + ') : '""'}
`;
}

/** Receives one message's text (a ROUTER's identity kept in `envelope`); a timeout ends the loop. */
function receiveLines(socket: SocketType, name: string, indent: string): string[] {
  const envelope = socket === 'ROUTER' || socket === 'DEALER';
  return [
    `${indent}try:`,
    envelope
      ? `${indent}    *envelope, raw = ${name}.recv_multipart()`
      : `${indent}    message = ${name}.recv_string()`,
    `${indent}except zmq.Again:`,
    `${indent}    break`,
    ...(envelope ? [`${indent}message = raw.decode()`] : []),
  ];
}

function sendLine(socket: SocketType, name: string, value: string, envelope: boolean): string {
  if (envelope) return `${name}.send_multipart([*envelope, ${value}.encode()])`;
  // A DEALER speaking to a REP sends the empty delimiter a REQ would add.
  if (socket === 'DEALER') return `${name}.send_multipart([b"", ${value}.encode()])`;
  return `${name}.send_string(${value})`;
}

function roleLines(plan: NodePlan): string[] {
  const { node } = plan;
  const role = node.role;
  const main = plan.main.socket;
  const out = plan.extra ? 'out' : null;
  const stop = node.stop;
  const words = GRAPH_CODE_WORDS[plan.lang];
  switch (role.kind) {
    case 'request': {
      const lines = [
        'for i in range(args.count):',
        '    request = body(i)',
        `    ${sendLine(main, 'sock', 'request', false)}`,
      ];
      if (role.waitReply !== false) {
        lines.push(
          '    try:',
          main === 'DEALER'
            ? '        reply = sock.recv_multipart()[-1].decode()'
            : '        reply = sock.recv_string()',
          '    except zmq.Again:',
          `        print(${q(words.noReply)}, file=sys.stderr)`,
          '        sys.exit(2)',
          '    print(request, "->", reply, flush=True)',
        );
      } else lines.push('    print(request, flush=True)');
      if (role.intervalMs) lines.push(`    time.sleep(${role.intervalMs / 1000})`);
      if (role.last !== undefined) lines.push(sendLine(main, 'sock', q(role.last), false));
      return lines;
    }
    case 'send': {
      const lines: string[] = [];
      if (role.waitForPeers) {
        lines.push(
          `# ${words.waitPeers}.`,
          'monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)',
          'peers = 0',
          `while peers < ${role.waitForPeers}:`,
          '    if recv_monitor_message(monitor)["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:',
          '        peers += 1',
          'sock.disable_monitor()',
        );
      }
      lines.push('for i in range(args.count):');
      for (const later of plan.main.laterBinds)
        lines.push(
          `    if i == ${later.after}:`,
          `        # ${words.laterBind}.`,
          `        sock.bind(${q(later.address)})`,
        );
      lines.push('    message = body(i)', `    ${sendLine(main, 'sock', 'message', false)}`);
      lines.push('    print(message, flush=True)');
      if (role.awaitEcho) {
        lines.push(
          '    try:',
          main === 'DEALER' ? '        echo = sock.recv_multipart()[-1].decode()' : '        echo = sock.recv_string()',
          '    except zmq.Again:',
          `        print(${q(words.noReply)}, file=sys.stderr)`,
          '        sys.exit(2)',
          '    print("<-", echo, flush=True)',
        );
      }
      if (role.intervalMs) lines.push(`    time.sleep(${role.intervalMs / 1000})`);
      return lines;
    }
    case 'reply': {
      const envelope = main === 'ROUTER';
      const lines = ['while True:', ...receiveLines(main, 'sock', '    ')];
      if (stop?.onMessage !== undefined) lines.push(`    if message == ${q(stop.onMessage)}:`, '        break');
      // A slow server (the playground's work per request): its clients wait meanwhile.
      if (role.workMs) lines.push(`    time.sleep(${role.workMs / 1000})`);
      lines.push(`    reply = ${transformExpression(role.transform, 'message')}`);
      lines.push(`    ${sendLine(main, 'sock', 'reply', envelope)}`);
      if (out) lines.push(`    ${sendLine(plan.extra!.socket, out, 'message', false)}`);
      lines.push('    print(message, "->", reply, flush=True)');
      return lines;
    }
    case 'receive': {
      const envelope = main === 'ROUTER' || main === 'DEALER';
      const lines = ['received = 0', 'while True:', ...receiveLines(main, 'sock', '    '), '    received += 1'];
      lines.push('    print(message, flush=True)');
      if (role.workMs) lines.push(`    time.sleep(${role.workMs / 1000})`);
      const result = transformExpression(role.transform, 'message');
      if (role.replyBack) lines.push(`    ${sendLine(main, 'sock', result, envelope)}`);
      if (out) lines.push(`    ${sendLine(plan.extra!.socket, out, result, false)}`);
      if (stop?.onMessage !== undefined) lines.push(`    if message == ${q(stop.onMessage)}:`, '        break');
      lines.push('    if args.count is not None and received >= args.count:', '        break');
      return lines;
    }
    case 'proxy':
      return [`# ${words.proxy}`, 'zmq.proxy(sock, out)'];
    case 'passive':
      return [];
  }
}

export function pythonProgram(plan: NodePlan): string {
  const words = GRAPH_CODE_WORDS[plan.lang];
  const role = plan.node.role;
  const count = defaultCount(plan.node);
  const sends = role.kind === 'request' || role.kind === 'send';
  const transform = role.kind === 'reply' || role.kind === 'receive' ? role.transform : undefined;
  const file = `${plan.node.id.replace(/[^A-Za-z0-9_]/g, '_')}.py`;
  const imports = ['import argparse'];
  if (sends && role.messages.kind === 'template') imports.push('import random');
  imports.push('import sys', 'import time', '', 'import zmq');
  if (role.kind === 'send' && role.waitForPeers) imports.push('from zmq.utils.monitor import recv_monitor_message');
  const lines = [
    '#!/usr/bin/env python3',
    `"""${docLines(plan, words).join('\n')}`,
    `${words.run}: /usr/bin/python3 ${file} [--count N] [--timeout SECONDS]`,
    '(Debian: apt-get install python3-zmq)"""',
    ...imports,
    '',
    'parser = argparse.ArgumentParser()',
    `parser.add_argument("--count", type=int, default=${count ?? 'None'}, help=${q(words.countHelp)})`,
    `parser.add_argument("--timeout", type=float, default=10, help=${q(words.timeoutHelp)})`,
    'args = parser.parse_args()',
    '',
  ];
  if (sends) lines.push(bodyFunction(plan));
  if (transform === 'sum') lines.push(ADD);
  lines.push('ctx = zmq.Context()', ...socketLines('sock', plan.main));
  if (plan.extra) lines.push(...socketLines('out', plan.extra));
  lines.push('try:', ...roleLines(plan).map((line) => `    ${line}`));
  lines.push('except KeyboardInterrupt:', '    pass', 'finally:', '    sock.close()');
  if (plan.extra) lines.push('    out.close()');
  lines.push('    ctx.term()', '');
  return lines.join('\n');
}
