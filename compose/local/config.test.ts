import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { assertDistinctPorts, brokerCountFile, kafkaBrokerPorts, parseBrokerCount, stackConfigFromEnv, stackUrls } from './config.ts';
import { clusterReplication } from './kafka.ts';

const dataRoot = mkdtempSync(path.join(tmpdir(), 'autopilot-stack-config-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));

it('runs one combined node unless a broker count was recorded by `stack up --brokers`', () => {
  const cfg = stackConfigFromEnv({ AUTOPILOT_DATA_DIR: dataRoot });
  expect(cfg.kafkaBrokerCount).toBe(1);
  expect(stackUrls(cfg).kafkaBrokers).toBe('localhost:9092');

  mkdirSync(cfg.dataDir, { recursive: true });
  writeFileSync(brokerCountFile(cfg.dataDir), '3\n');
  const three = stackConfigFromEnv({ AUTOPILOT_DATA_DIR: dataRoot });
  expect(three.kafkaBrokerCount).toBe(3);
  // Every other port, so the controller keeps 9093.
  expect(kafkaBrokerPorts(three)).toEqual([9092, 9094, 9096]);
  expect(stackUrls(three).kafkaBrokers).toBe('localhost:9092,localhost:9094,localhost:9096');
});

it('refuses a layout whose services would share a port', () => {
  const cfg = { ...stackConfigFromEnv({ AUTOPILOT_DATA_DIR: path.join(dataRoot, 'other'), KAFKA_CONTROLLER_PORT: '9094' }), kafkaBrokerCount: 3 };
  expect(() => assertDistinctPorts(cfg)).toThrow(/port 9094 is given to two services/);
  expect(() => assertDistinctPorts({ ...cfg, kafkaBrokerCount: 1 })).not.toThrow();
});

it('takes --brokers from 1 to 9', () => {
  expect(parseBrokerCount('3')).toBe(3);
  for (const bad of ['0', '10', '2.5', 'three', '']) expect(() => parseBrokerCount(bad), bad).toThrow(/--brokers/);
});

it('replicates three times where it can, and needs all but one replica in sync', () => {
  expect([1, 2, 3, 5].map(clusterReplication)).toEqual([
    { factor: 1, minInsync: 1 },
    { factor: 2, minInsync: 1 },
    { factor: 3, minInsync: 2 },
    { factor: 3, minInsync: 2 },
  ]);
});
