import { join } from 'node:path';
import { runChecked, requireTool } from './commands.ts';
import { LOCAL_STACK_DIR } from './config.ts';

/**
 * Runs Maven against compose/local/pom.xml (which pins the dependency plugin).
 * Batch mode and -q keep the output short enough to quote in an error.
 */
export async function runMaven(args: string[]): Promise<void> {
  const mvn = await requireTool('mvn', 'install Maven 3.8+ (apt-get install maven); it downloads the Kafka and Apicurio jars');
  await runChecked(mvn, ['-B', '-q', '-Dstyle.color=never', '-f', join(LOCAL_STACK_DIR, 'pom.xml'), ...args]);
}

export async function requireJava(): Promise<string> {
  return requireTool('java', 'install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)');
}
