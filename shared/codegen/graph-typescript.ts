/**
 * A graph node's program in TypeScript (zeromq.js v6; `npx tsx node.ts`). Planned by graph-code.ts: this file only
 * writes the text. Every receive has a timeout (receiveTimeout), so a program whose peers are gone ends.
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

const TS_SOCKET: Readonly<Record<SocketType, string>> = {
  REQ: 'Request',
  REP: 'Reply',
  DEALER: 'Dealer',
  ROUTER: 'Router',
  PUB: 'Publisher',
  SUB: 'Subscriber',
  XPUB: 'XPublisher',
  XSUB: 'XSubscriber',
  PUSH: 'Push',
  PULL: 'Pull',
  PAIR: 'Pair',
};

function socketLines(name: string, plan: SocketPlan): string[] {
  // A PUB or a PUSH never receives: zeromq.js has no receive timeout for them.
  const options = [
    'linger: 1000',
    ...(plan.socket === 'PUB' || plan.socket === 'PUSH' ? [] : ['receiveTimeout: timeoutMs']),
  ];
  if (plan.routingId !== undefined) options.push(`routingId: ${q(plan.routingId)}`);
  const lines = [`const ${name} = new zmq.${TS_SOCKET[plan.socket]}({ ${options.join(', ')} });`];
  if (plan.socket === 'SUB') lines.push(`${name}.subscribe(${plan.subscribe.map(q).join(', ')});`);
  for (const address of plan.binds) lines.push(`await ${name}.bind(${q(address)});`);
  for (const { address } of plan.connects) lines.push(`${name}.connect(${q(address)});`);
  if (plan.socket === 'XSUB')
    for (const prefix of plan.subscribe) lines.push(`await ${name}.send(Buffer.from("\\x01" + ${q(prefix)}));`);
  return lines;
}

function transformExpression(kind: Transform | undefined, variable: string): string {
  switch (kind) {
    case 'uppercase':
      return `${variable}.toUpperCase()`;
    case 'sum':
      return `add(${variable})`;
    default:
      return variable;
  }
}

const ADD = `// The series' part 1: "a:b" becomes the sum as text; anything else is kept.
function add(text: string): string {
  const match = /^\\s*(-?\\d+)\\s*:\\s*(-?\\d+)\\s*$/.exec(text);
  return match ? String(Number(match[1]) + Number(match[2])) : text;
}
`;

function bodyFunction(plan: NodePlan): string {
  const role = plan.node.role;
  if (role.kind !== 'request' && role.kind !== 'send') return '';
  const messages = role.messages;
  if (messages.kind === 'list') {
    return `const messages = [${messages.items.map(q).join(', ')}];
const body = (i: number): string => messages[i % messages.length]!;
`;
  }
  const pieces = templateParts(messages.template).map((part) => {
    switch (part.kind) {
      case 'text':
        return q(part.text);
      case 'index':
        return 'String(i)';
      case 'number':
        return 'String(i + 1)';
      case 'int':
        return `String(${part.min} + Math.floor(Math.random() * ${part.max - part.min + 1}))`;
      case 'pick':
        return `pick([${part.choices.map(q).join(', ')}])`;
    }
  });
  return `const pick = (choices: string[]): string => choices[Math.floor(Math.random() * choices.length)]!;
const body = (i: number): string => ${pieces.length > 0 ? pieces.join(' + ') : '""'};
`;
}

/** Receives one message's text into `message` (a ROUTER's or DEALER's envelope kept); a timeout ends the loop. */
function receiveLines(socket: SocketType, name: string): string[] {
  return [
    'let frames: Buffer[];',
    'try {',
    `  frames = await ${name}.receive();`,
    '} catch {',
    '  break; // nothing for timeoutMs',
    '}',
    'const message = frames.at(-1)!.toString();',
    ...(socket === 'ROUTER' || socket === 'DEALER' ? ['const envelope = frames.slice(0, -1);'] : []),
  ];
}

function sendLine(socket: SocketType, name: string, value: string, envelope: boolean): string {
  if (envelope) return `await ${name}.send([...envelope, ${value}]);`;
  // A DEALER speaking to a REP sends the empty delimiter a REQ would add.
  if (socket === 'DEALER') return `await ${name}.send(["", ${value}]);`;
  return `await ${name}.send(${value});`;
}

function replyLines(name: string, what: string, words: { noReply: string }): string[] {
  return [
    `let ${what}: string;`,
    'try {',
    `  ${what} = (await ${name}.receive()).at(-1)!.toString();`,
    '} catch {',
    `  console.error(${q(words.noReply)});`,
    '  process.exit(2);',
    '}',
  ];
}

function roleLines(plan: NodePlan): string[] {
  const { node } = plan;
  const role = node.role;
  const main = plan.main.socket;
  const out = plan.extra ? 'out' : null;
  const stop = node.stop;
  const words = GRAPH_CODE_WORDS[plan.lang];
  const indent = (lines: string[]) => lines.map((line) => `  ${line}`);
  switch (role.kind) {
    case 'request': {
      const body = ['const request = body(i);', sendLine(main, 'sock', 'request', false)];
      if (role.waitReply !== false)
        body.push(...replyLines('sock', 'reply', words), 'console.log(request, "->", reply);');
      else body.push('console.log(request);');
      if (role.intervalMs) body.push(`await sleep(${role.intervalMs});`);
      const lines = ['for (let i = 0; i < count; i++) {', ...indent(body), '}'];
      if (role.last !== undefined) lines.push(sendLine(main, 'sock', q(role.last), false));
      return lines;
    }
    case 'send': {
      const lines: string[] = [];
      if (role.waitForPeers) {
        lines.push(
          `// ${words.waitPeers}.`,
          'let peers = 0;',
          `await new Promise<void>((resolve) => sock.events.on("handshake", () => ++peers === ${role.waitForPeers} && resolve()));`,
        );
      }
      const body = [
        ...plan.main.laterBinds.flatMap((later) => [
          `if (i === ${later.after}) {`,
          `  // ${words.laterBind}.`,
          `  await sock.bind(${q(later.address)});`,
          '}',
        ]),
        'const message = body(i);',
        sendLine(main, 'sock', 'message', false),
        'console.log(message);',
      ];
      if (role.awaitEcho) body.push(...replyLines('sock', 'echo', words), 'console.log("<-", echo);');
      if (role.intervalMs) body.push(`await sleep(${role.intervalMs});`);
      lines.push('for (let i = 0; i < count; i++) {', ...indent(body), '}');
      return lines;
    }
    case 'reply': {
      const envelope = main === 'ROUTER';
      const body = receiveLines(main, 'sock');
      if (stop?.onMessage !== undefined) body.push(`if (message === ${q(stop.onMessage)}) break;`);
      // A slow server (the playground's work per request): its clients wait meanwhile.
      if (role.workMs) body.push(`await sleep(${role.workMs});`);
      body.push(`const reply = ${transformExpression(role.transform, 'message')};`);
      body.push(sendLine(main, 'sock', 'reply', envelope));
      if (out) body.push(sendLine(plan.extra!.socket, out, 'message', false));
      body.push('console.log(message, "->", reply);');
      return ['for (;;) {', ...indent(body), '}'];
    }
    case 'receive': {
      const envelope = main === 'ROUTER' || main === 'DEALER';
      const body = [...receiveLines(main, 'sock'), 'received++;', 'console.log(message);'];
      if (role.workMs) body.push(`await sleep(${role.workMs});`);
      const result = transformExpression(role.transform, 'message');
      if (role.replyBack) body.push(sendLine(main, 'sock', result, envelope));
      if (out) body.push(sendLine(plan.extra!.socket, out, result, false));
      if (stop?.onMessage !== undefined) body.push(`if (message === ${q(stop.onMessage)}) break;`);
      body.push('if (count > 0 && received >= count) break;');
      return ['let received = 0;', 'for (;;) {', ...indent(body), '}'];
    }
    case 'proxy':
      return [`// ${words.proxy}`, 'await new zmq.Proxy(sock, out).run();'];
    case 'passive':
      return [];
  }
}

export function typescriptProgram(plan: NodePlan): string {
  const words = GRAPH_CODE_WORDS[plan.lang];
  const role = plan.node.role;
  const count = defaultCount(plan.node);
  const transform = role.kind === 'reply' || role.kind === 'receive' ? role.transform : undefined;
  const file = `${plan.node.id.replace(/[^A-Za-z0-9_]/g, '_')}.ts`;
  const paced =
    ((role.kind === 'request' || role.kind === 'send') && role.intervalMs) ||
    ((role.kind === 'receive' || role.kind === 'reply') && role.workMs);
  const lines = [
    ...docLines(plan, words).map((line) => `// ${line}`),
    `// ${words.run}: npx tsx ${file} [COUNT] [TIMEOUT_SECONDS]`,
    'import * as zmq from "zeromq";',
    '',
    `// ${words.countHelp}${count === null ? ` (${words.noLimit})` : ''}; ${words.timeoutHelp}`,
    `const count = Number(process.argv[2] ?? ${count ?? 0});`,
    'const timeoutMs = Number(process.argv[3] ?? 10) * 1000;',
  ];
  if (paced) lines.push('const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));');
  lines.push('');
  const body = bodyFunction(plan);
  if (body) lines.push(body);
  if (transform === 'sum') lines.push(ADD);
  lines.push(...socketLines('sock', plan.main));
  if (plan.extra) lines.push(...socketLines('out', plan.extra));
  lines.push('', ...roleLines(plan), 'sock.close();');
  if (plan.extra) lines.push('out.close();');
  lines.push('');
  return lines.join('\n');
}
