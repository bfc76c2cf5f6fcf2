import { windowConfig } from '../runtime/window-config.ts';
import type { WindowConfig } from '../runtime/windows.ts';

/** ROLLUP_WINDOW_MS, ROLLUP_LATENESS_MS, ROLLUP_RELATIVE_ACCURACY (see runtime/window-config.ts, shared with error-rate). */
export type RollupConfig = WindowConfig;
export const rollupConfig = (env: NodeJS.ProcessEnv): RollupConfig => windowConfig(env);
