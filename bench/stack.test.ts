import { describe, expect, it } from 'vitest';
import type { ServiceName } from '../compose/local/stack.ts';
import { type StackOps, upOwning } from './stack.ts';
import { Teardown } from './teardown.ts';

/**
 * A stack of fakes: `running` is what runs before the benchmark; up starts
 * the rest (or fails after starting some), stop stops what it is given.
 * Before this change benchStackUp stopped nothing: `bench:ingest` and
 * `bench:remote-write` left Kafka, the registry and Redis running, which the
 * first test catches (nothing would be stopped).
 */
function fakeStack(running: ServiceName[], opts: { failAfterStarting?: ServiceName[] } = {}) {
  const up = new Set<ServiceName>(running);
  const stopCalls: ServiceName[][] = [];
  const ops: StackOps = {
    status: async () => (['kafka', 'registry', 'redis'] as const).map((name) => ({ name, running: up.has(name) })),
    up: async () => {
      if (opts.failAfterStarting) {
        for (const name of opts.failAfterStarting) up.add(name);
        throw new Error('registry did not answer');
      }
      for (const name of ['kafka', 'registry', 'redis'] as const) up.add(name);
    },
    stop: async (names) => {
      stopCalls.push([...names]);
      for (const name of names) up.delete(name);
    },
  };
  return { ops, up, stopCalls };
}

describe('upOwning', () => {
  it('stops at teardown every service it started', async () => {
    const stack = fakeStack([]);
    const teardown = new Teardown();
    const { found } = await upOwning(stack.ops, teardown, 'the stack');
    expect(found).toEqual([]);
    expect([...stack.up].sort()).toEqual(['kafka', 'redis', 'registry']);
    await teardown.run();
    expect(stack.up.size).toBe(0);
  });

  it('leaves a stack it found running as it was (a developer’s, or one kept up between runs)', async () => {
    const stack = fakeStack(['kafka', 'registry', 'redis']);
    const teardown = new Teardown();
    const { found } = await upOwning(stack.ops, teardown, 'the stack');
    expect(found).toEqual(['kafka', 'registry', 'redis']);
    await teardown.run();
    expect([...stack.up].sort()).toEqual(['kafka', 'redis', 'registry']);
    expect(stack.stopCalls).toEqual([]);
  });

  it('stops only the services it started when it found some running', async () => {
    const stack = fakeStack(['registry']);
    const teardown = new Teardown();
    await upOwning(stack.ops, teardown, 'the stack');
    await teardown.run();
    expect([...stack.up]).toEqual(['registry']);
    expect(stack.stopCalls.flat()).not.toContain('registry');
  });

  it('stops what got started when starting fails halfway', async () => {
    const stack = fakeStack(['redis'], { failAfterStarting: ['kafka'] });
    const teardown = new Teardown();
    await expect(upOwning(stack.ops, teardown, 'the stack')).rejects.toThrow('registry did not answer');
    await teardown.run();
    expect([...stack.up]).toEqual(['redis']);
  });

  it('stopped during start-up (a signal), stops again once the start has ended', async () => {
    let release!: () => void;
    const started = new Set<ServiceName>();
    const stopCalls: ServiceName[][] = [];
    const ops: StackOps = {
      status: async () => (['kafka', 'registry', 'redis'] as const).map((name) => ({ name, running: false })),
      // Kafka is spawned at once, Redis only after the teardown's first stop: the second stop must catch it.
      up: async () => {
        started.add('kafka');
        await new Promise<void>((resolve) => (release = resolve));
        started.add('redis');
      },
      stop: async (names) => {
        stopCalls.push([...names]);
        for (const name of names) started.delete(name);
        release();
      },
    };
    const teardown = new Teardown();
    const upping = upOwning(ops, teardown, 'the stack');
    await new Promise((resolve) => setImmediate(resolve));
    await teardown.run();
    await upping;
    expect(started.size).toBe(0);
    expect(stopCalls).toHaveLength(2);
  });

  it('can stop early (a phase ending), and teardown then has nothing left to do', async () => {
    const stack = fakeStack([]);
    const teardown = new Teardown();
    const { stop } = await upOwning(stack.ops, teardown, 'the stack');
    await stop();
    expect(stack.up.size).toBe(0);
    stack.up.add('kafka'); // someone else's, started after our phase ended on the same ports: not ours to stop
    await teardown.run();
    expect([...stack.up]).toEqual(['kafka']);
  });
});
