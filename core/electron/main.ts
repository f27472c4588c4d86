// The Electron entry point (`electron dist/core/electron/main.js`): the shell over the backend's web UI.
import * as electron from 'electron';
import { resolveStateDir } from '../node/index.js';
import { runShell, type ElectronModule } from './shell.js';

runShell(electron as unknown as ElectronModule, { stateDir: resolveStateDir() }).catch((error: Error) => {
  electron.dialog.showErrorBox('Shadowdisk could not start', error.message);
  electron.app.quit();
});
