// FIFREEZE/FITHAW: hold all writes to a mounted filesystem so its device can be copied consistently.
import { withFd } from './fd.js';
import { native } from './load.js';

/** Freezes the filesystem mounted at `mountpoint`; EBUSY if it is already frozen. Always pair with thawFilesystem. */
export function freezeFilesystem(mountpoint: string): void {
  const addon = native();
  withFd(mountpoint, addon.constants.O_RDONLY, (fd) => addon.fiFreeze(fd, mountpoint));
}

/** Thaws the filesystem mounted at `mountpoint`; EINVAL if it is not frozen. */
export function thawFilesystem(mountpoint: string): void {
  const addon = native();
  withFd(mountpoint, addon.constants.O_RDONLY, (fd) => addon.fiThaw(fd, mountpoint));
}

/** syncfs(2): writes everything of the filesystem mounted at `mountpoint` to its device, without freezing it. */
export function syncFilesystem(mountpoint: string): void {
  const addon = native();
  withFd(mountpoint, addon.constants.O_RDONLY, (fd) => addon.syncFs(fd, mountpoint));
}

/** Runs `work` with the filesystem frozen and thaws it afterwards, also when `work` fails. */
export async function withFrozenFilesystem<T>(mountpoint: string, work: () => Promise<T> | T): Promise<T> {
  freezeFilesystem(mountpoint);
  try {
    return await work();
  } finally {
    thawFilesystem(mountpoint);
  }
}
