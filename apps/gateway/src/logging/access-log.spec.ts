import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AccessLog, type AccessEntry, jsonString } from './access-log';
import { LineWriter } from './line-writer';

const entry = (over: Partial<AccessEntry> = {}): AccessEntry => ({
  method: 'GET',
  path: '/api/ers/STU3/v1/ReferralRequest/1',
  status: 200,
  ms: 3.4,
  correlationId: 'c-1',
  upstream: '5e0b7a8e-4c1d-4f7e-9a53-0d3c1b2a9f10',
  ersTransactionId: 'tx-9',
  ...over,
});

const capture = (): { lines: string[]; write: (line: string) => void } => {
  const lines: string[] = [];
  return { lines, write: (line) => lines.push(line) };
};

describe('AccessLog', () => {
  it('writes the line pino would write for the same fields (same keys, same order, same values)', () => {
    const ours = capture();
    new AccessLog('info', ours).write('info', entry());
    const theirs = capture();
    pino(
      { level: 'info', base: { service: 'ers-gateway' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      theirs,
    ).info(entry(), 'request');
    const a = JSON.parse(ours.lines[0] ?? '') as Record<string, unknown>;
    const b = JSON.parse(theirs.lines[0] ?? '') as Record<string, unknown>;
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect({ ...a, time: 0 }).toEqual({ ...b, time: 0 });
    expect(Date.parse(String(a.time))).not.toBeNaN();
    expect(ours.lines[0]?.endsWith('}\n')).toBe(true);
  });

  describe('time', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('is Date#toISOString of the moment of the line, across milliseconds, seconds and days', () => {
      vi.useFakeTimers();
      const out = capture();
      const log = new AccessLog('info', out);
      const moments = [
        Date.UTC(2026, 10, 26, 21, 40, 5, 0),
        Date.UTC(2026, 10, 26, 21, 40, 5, 0),
        Date.UTC(2026, 10, 26, 21, 40, 5, 7),
        Date.UTC(2026, 10, 26, 21, 40, 5, 999),
        Date.UTC(2026, 10, 26, 21, 40, 6, 0),
        Date.UTC(2026, 10, 26, 21, 40, 6, 42),
        Date.UTC(2026, 10, 26, 23, 59, 59, 999),
        Date.UTC(2026, 10, 27, 0, 0, 0, 1),
        Date.UTC(2026, 10, 26, 21, 40, 5, 120), // the clock stepped back
      ];
      for (const moment of moments) {
        vi.setSystemTime(moment);
        log.write('info', entry());
      }
      const times = out.lines.map((line) => (JSON.parse(line) as { time: string }).time);
      expect(times).toEqual(moments.map((moment) => new Date(moment).toISOString()));
    });
  });

  it('leaves out an absent upstream id and e-RS transaction id, as pino leaves out undefined fields', () => {
    const out = capture();
    new AccessLog('info', out).write('info', entry({ upstream: undefined, ersTransactionId: undefined }));
    const line = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(line).not.toHaveProperty('upstream');
    expect(line).not.toHaveProperty('ersTransactionId');
    expect(line.msg).toBe('request');
  });

  it('escapes what it did not make: a path or transaction id with quotes, backslashes or control characters stays one valid line', () => {
    const out = capture();
    const path = '/api/ers/a"b\\c\u0001\n{"level":"fatal"}';
    new AccessLog('info', out).write('info', entry({ path, ersTransactionId: '"}\n' }));
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]?.split('\n')).toHaveLength(2);
    const line = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(line.path).toBe(path);
    expect(line.level).toBe('info');
    expect(line.ersTransactionId).toBe('"}\n');
  });

  it('honours LOG_LEVEL: debug lines only at debug, nothing when silent', () => {
    const info = capture();
    new AccessLog('info', info).write('debug', entry());
    expect(info.lines).toEqual([]);
    const debug = capture();
    new AccessLog('debug', debug).write('debug', entry());
    expect(JSON.parse(debug.lines[0] ?? '')).toMatchObject({ level: 'debug' });
    const silent = capture();
    new AccessLog('silent', silent).write('info', entry());
    new AccessLog('warn', silent).write('info', entry());
    expect(silent.lines).toEqual([]);
  });
});

describe('LineWriter', () => {
  it('gathers lines for up to 5 ms into one write, in order', () => {
    vi.useFakeTimers();
    try {
      const writes: string[] = [];
      const writer = new LineWriter({ write: (chunk: string) => writes.push(chunk) });
      writer.write('a\n');
      vi.advanceTimersByTime(2);
      writer.write('b\n');
      writer.write('c\n');
      vi.advanceTimersByTime(2);
      expect(writes).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(writes).toEqual(['a\nb\nc\n']);
      writer.write('d\n');
      vi.advanceTimersByTime(4);
      expect(writes).toEqual(['a\nb\nc\n']);
      vi.advanceTimersByTime(1);
      expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes at once when 64 KiB have gathered, and the next line waits for a new 5 ms', () => {
    vi.useFakeTimers();
    try {
      const writes: string[] = [];
      const writer = new LineWriter({ write: (chunk: string) => writes.push(chunk) });
      const line = `${'x'.repeat(1023)}\n`;
      for (let i = 0; i < 63; i++) writer.write(line);
      expect(writes).toEqual([]);
      writer.write(line);
      expect(writes).toEqual([line.repeat(64)]);
      expect(vi.getTimerCount()).toBe(0);
      writer.write('tail\n');
      vi.advanceTimersByTime(4);
      expect(writes).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(writes).toEqual([line.repeat(64), 'tail\n']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('flush writes what is gathered at once (before an exit), and then has nothing left to write', () => {
    const writes: string[] = [];
    const writer = new LineWriter({ write: (chunk: string) => writes.push(chunk) });
    writer.write('x\n');
    let called = false;
    writer.flush(() => {
      called = true;
    });
    expect(called).toBe(true);
    expect(writes).toEqual(['x\n']);
    writer.flushSync();
    expect(writes).toEqual(['x\n']);
  });
});

describe('jsonString', () => {
  it('is JSON.stringify for plain values and for every character that needs escaping', () => {
    const values = [
      '',
      '/api/ers/STU3/v1/ReferralRequest/1',
      'a"b',
      'a\\b',
      'tab\there',
      'nl\nhere',
      '\u0000\u001f\u007f',
      'caf\u00e9 \u2028 \u2029',
      '\ud83d\ude00',
      'lone \ud800 high',
      'lone \udfff low',
    ];
    for (const value of values) expect(jsonString(value)).toBe(JSON.stringify(value));
    for (let code = 0; code < 0x80; code++) {
      const value = `x${String.fromCharCode(code)}y`;
      expect(jsonString(value)).toBe(JSON.stringify(value));
    }
  });
});
