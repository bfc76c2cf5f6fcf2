import path from 'node:path';

/**
 * The test stack's ports and folder: apart from the defaults, so tests never
 * touch a developer's running stack. AUTOPILOT_TEST_PORT_OFFSET moves every
 * port (and the folder), so two checkouts can run their suites side by side.
 */
const offset = Number(process.env.AUTOPILOT_TEST_PORT_OFFSET ?? 0);
const port = (base: number) => String(base + offset);

export const TEST_STACK_ENV = {
  AUTOPILOT_DATA_DIR: path.resolve(import.meta.dirname, `../../.data/test${offset ? `-${offset}` : ''}`),
  KAFKA_PORT: port(49092),
  KAFKA_CONTROLLER_PORT: port(49093),
  SCHEMA_REGISTRY_PORT: port(48081),
  REDIS_PORT: port(46379),
};
