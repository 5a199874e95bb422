// The kts command line.
import { runServerCommand, serverHelp } from './server.js';
import { KUBE_VERSION } from '../apiserver/apiserver.js';

const USAGE = `kts — Kubernetes, written in TypeScript

Usage:
  kts server [flags]     Start a cluster: storage, API server and controllers in one process
  kts version            Print the kts and Kubernetes versions
  kts help [command]     Show help

Run "kts server --help" for the server's flags.
`;

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'server':
      return runServerCommand(rest);
    case 'version':
    case '--version':
      process.stdout.write(`kts version ${await packageVersion()} (Kubernetes ${KUBE_VERSION.gitVersion})\n`);
      return;
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      if (rest[0] === 'server') process.stdout.write(serverHelp());
      else process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`kts: unknown command "${cmd}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version;
}
