// pods/attach: like exec, to the container's main process (kubectl attach, run -it).
import type { ApiServer } from '../apiserver.js';
import { remoteCommandHandler, upgradeRequired } from './exec.js';

export function registerAttach(api: ApiServer): void {
  api.registerUpgradeHandler('', 'pods', 'attach', remoteCommandHandler(api, 'attach'));
  api.registerSubresource('', 'pods', 'attach', async () => upgradeRequired());
}
