import path from 'node:path';

/** The test stack's ports and folder: apart from the defaults, so tests never touch a developer's running stack. */
export const TEST_STACK_ENV = {
  AUTOPILOT_DATA_DIR: path.resolve(import.meta.dirname, '../../.data/test'),
  KAFKA_PORT: '49092',
  KAFKA_CONTROLLER_PORT: '49093',
  SCHEMA_REGISTRY_PORT: '48081',
  REDIS_PORT: '46379',
};
