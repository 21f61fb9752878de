import { describe, expect, it } from 'vitest';
import {
  EXTERNAL,
  SINK,
  dotSpacing,
  dotsAt,
  ease,
  flightDuration,
  inFlight,
  pruneLanded,
  type Flight,
} from './flights.ts';
import { layoutDiagram, linkBetween, pointOnLink } from './layout.ts';

const layout = layoutDiagram({
  endpoints: ['tcp', 'ipc'],
  workers: ['worker-tcp', 'worker-ipc'],
  showExternal: true,
  width: 900,
});

function flight(overrides: Partial<Flight> = {}): Flight {
  return { key: 'r1', task: 1, body: '1', from: 'tcp', to: 'worker-tcp', start: 1000, duration: 400, ...overrides };
}

describe('flightDuration', () => {
  it('is 0.8 × interval, between 150 and 600 ms', () => {
    expect(flightDuration(1000)).toBe(600);
    expect(flightDuration(500)).toBe(400);
    expect(flightDuration(100)).toBe(150);
    expect(flightDuration(0)).toBe(150);
  });
});

describe('dotsAt', () => {
  it('draws nothing before departure or after landing', () => {
    expect(dotsAt([flight()], layout, 999)).toEqual([]);
    expect(dotsAt([flight()], layout, 1400)).toEqual([]);
  });

  it('starts a dot on the endpoint port and ends it at the receiving worker', () => {
    const tcpPort = layout.ports[0]!.port;
    const worker = layout.workers[0]!;
    const [first] = dotsAt([flight()], layout, 1000);
    expect(first).toMatchObject({ key: 'r1', task: 1, to: 'worker-tcp', x: tcpPort.x, y: tcpPort.y, progress: 0 });
    const [late] = dotsAt([flight()], layout, 1399.9);
    expect(late!.x).toBeCloseTo(worker.anchor.x, 0);
    expect(late!.y).toBeCloseTo(worker.anchor.y, 0);
  });

  it('follows the link curve with easing', () => {
    const [dot] = dotsAt([flight()], layout, 1100);
    const expected = pointOnLink(linkBetween(layout.ports[0]!.port, layout.workers[0]!.anchor), ease(0.25));
    expect(dot!.x).toBeCloseTo(expected.x);
    expect(dot!.y).toBeCloseTo(expected.y);
  });

  it('flies from the port the worker is connected through', () => {
    const [dot] = dotsAt([flight({ from: 'ipc', to: 'worker-ipc' })], layout, 1000);
    expect(dot!.y).toBe(layout.ports[1]!.port.y);
  });

  it('flies to the external peers box', () => {
    const [dot] = dotsAt([flight({ to: EXTERNAL })], layout, 1399.9);
    expect(dot!.x).toBeCloseTo(layout.external!.anchor.x, 0);
    expect(dot!.y).toBeCloseTo(layout.external!.anchor.y, 0);
  });

  it('skips flights whose endpoint or target is not drawn', () => {
    const flights = [flight({ key: 'a', from: 'inproc' }), flight({ key: 'b', to: 'worker-9' }), flight({ key: 'c' })];
    expect(dotsAt(flights, layout, 1200).map((d) => d.key)).toEqual(['c']);
  });

  it('keeps flight order and keys (keyed each needs stable keys)', () => {
    const flights = [flight({ key: 'a' }), flight({ key: 'b', start: 1100 }), flight({ key: 'c', start: 1200 })];
    expect(dotsAt(flights, layout, 1250).map((d) => d.key)).toEqual(['a', 'b', 'c']);
    expect(inFlight(flights, 1250)).toBe(3);
    expect(inFlight(flights, 1450)).toBe(2);
  });
});

describe('pruneLanded', () => {
  it('drops landed flights and returns the same array when nothing landed', () => {
    const flights = [flight({ key: 'a' }), flight({ key: 'b', start: 2000 })];
    expect(pruneLanded(flights, 1200)).toBe(flights);
    expect(pruneLanded(flights, 1500).map((f) => f.key)).toEqual(['b']);
  });
});

describe('ease', () => {
  it('goes from 0 to 1 monotonically', () => {
    expect(ease(0)).toBe(0);
    expect(ease(1)).toBe(1);
    let prev = 0;
    for (let p = 0.05; p <= 1; p += 0.05) {
      expect(ease(p)).toBeGreaterThanOrEqual(prev);
      prev = ease(p);
    }
  });
});

describe('result dots', () => {
  const withSink = layoutDiagram({
    endpoints: ['tcp'],
    workers: ['worker-1', 'worker-2'],
    showExternal: false,
    showSink: true,
    width: 1000,
  });

  it('fly from the worker to the sink', () => {
    const result = flight({ key: 'c1', kind: 'result', from: 'worker-2', to: SINK });
    const [first] = dotsAt([result], withSink, 1000);
    expect(first).toMatchObject({
      kind: 'result',
      worker: 'worker-2',
      x: withSink.workers[1]!.out.x,
      y: withSink.workers[1]!.out.y,
    });
    const [late] = dotsAt([result], withSink, 1399.9);
    expect(late!.x).toBeCloseTo(withSink.sink!.anchor.x, 0);
  });

  it('are not drawn without a sink', () => {
    expect(dotsAt([flight({ key: 'c1', kind: 'result', from: 'worker-tcp', to: SINK })], layout, 1200)).toEqual([]);
  });
});

describe('dotSpacing', () => {
  it('spreads dots so that at most `share` are in the air at once', () => {
    expect(dotSpacing(150, 30)).toBe(5);
    expect(dotSpacing(600, 60)).toBe(10);
    expect(dotSpacing(150, 0)).toBe(150);
  });
});
