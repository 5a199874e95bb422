// postStart and preStop hooks (exec, httpGet, sleep), as upstream's lifecycle handler runner.
import { runProbe, type ProbeEnv } from './probes.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Runs a lifecycle handler; resolves with an error message when it failed (undefined on
 * success). `gracePeriodSeconds` bounds exec/httpGet hooks (preStop runs inside the grace period).
 */
export async function runHook(handler: Json, env: ProbeEnv, gracePeriodSeconds: number, sleep: (ms: number) => Promise<void>): Promise<string | undefined> {
  if (!handler) return undefined;
  if (handler.sleep) {
    await sleep(Math.min(Number(handler.sleep.seconds ?? 0), gracePeriodSeconds) * 1000);
    return undefined;
  }
  if (handler.exec) {
    const cmd: string[] = handler.exec.command ?? [];
    try {
      const r = await env.exec(cmd, gracePeriodSeconds);
      if (r.exitCode !== 0) return `command '${cmd.join(' ')}' exited with ${r.exitCode}: ${r.stderr || r.stdout}`;
      return undefined;
    } catch (e) {
      return `command '${cmd.join(' ')}' exited with 126: ${(e as Error).message}`;
    }
  }
  if (handler.httpGet) {
    const r = await runProbe({ httpGet: handler.httpGet, timeoutSeconds: Math.max(1, gracePeriodSeconds) }, env);
    if (!r.ok) return r.output;
    return undefined;
  }
  if (handler.tcpSocket) return 'tcpSocket is not supported as a lifecycle handler';
  return undefined;
}
