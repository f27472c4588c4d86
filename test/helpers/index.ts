// Test harness: real resources behind `await using` handles that release only what they created.
export { run, type RunResult } from './run.js';
export { tempDir, tempStateDir, type TempDir } from './temp-dir.js';
export { sparseImage, type SparseImage } from './sparse-image.js';
export { loopDevice, loopBackingFile, loopPartitionNodes, type LoopDevice, type LoopOptions } from './loop-device.js';
export { mkfs, type TestFsType } from './mkfs.js';
export { mount, ownedMount, isMounted, mountpoints, type Mount } from './mount.js';
export { fuseMount, type FuseMount } from './fuse-mount.js';
export { LeakGuard, findLeaks, snapshotSystem, type SystemSnapshot } from './leak-guard.js';
export { prng } from './prng.js';
export { powerCutDisk, type PowerCutDisk, type PowerCutDiskOptions, type TestDiskStatus } from './power-cut-disk.js';
