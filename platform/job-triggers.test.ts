import { describe, expect, it } from 'vitest';
import { throwawayRedisPerFile } from '../test/helpers/redis-server.ts';
import { JobTriggers } from './job-triggers.ts';

/**
 * Manual runs through a real redis-server of the test's own: the gateway
 * asks (request), every scheduler reads what waits (waiting), the one that
 * ran it removes it (remove), each on its own connection as in production.
 */
const redisServer = throwawayRedisPerFile();

describe('JobTriggers', () => {
  it('keeps a request with a fresh id, the tenant, the job and when it was asked', async () => {
    const r = await new JobTriggers(redisServer().client()).request('acme', 'job-1', 1_700_000_000_000);
    expect(r).toEqual({ request_id: expect.stringMatching(/^[0-9a-f-]{36}$/), tenant: 'acme', job_id: 'job-1', requested_at: 1_700_000_000_000 });
    expect(await new JobTriggers(redisServer().client()).waiting()).toEqual([r]);
  });

  it('lists what waits oldest first, up to the limit, and twice the same job as two requests', async () => {
    const gateway = new JobTriggers(redisServer().client());
    const late = await gateway.request('acme', 'job-1', 3000);
    const early = await gateway.request('globex', 'job-2', 1000);
    const middle = await gateway.request('acme', 'job-3', 2000);
    const again = await gateway.request('acme', 'job-1', 4000);
    expect(again.request_id).not.toBe(late.request_id);

    const scheduler = new JobTriggers(redisServer().client());
    expect(await scheduler.waiting()).toEqual([early, middle, late, again]);
    expect(await scheduler.waiting(2)).toEqual([early, middle]);
  });

  it('removes the request another process read, and only that one', async () => {
    const gateway = new JobTriggers(redisServer().client());
    const first = await gateway.request('acme', 'job-1', 1000);
    const second = await gateway.request('acme', 'job-1', 2000);

    // The scheduler removes what it read back, on its own connection: the same request as the gateway wrote.
    const scheduler = new JobTriggers(redisServer().client());
    const [read] = await scheduler.waiting(1);
    await scheduler.remove(read!);
    expect(await gateway.waiting()).toEqual([second]);

    await scheduler.remove(read!); // a second scheduler removing it too: nothing else goes
    await scheduler.remove(first);
    expect(await gateway.waiting()).toEqual([second]);
    await gateway.remove(second);
    expect(await scheduler.waiting()).toEqual([]);
  });
});
