// Public surface of the native addon: typed, path-based wrappers over Linux block-device and filesystem ioctls.
export { blockDeviceGeometry, flushBlockDevice, discardRange, type BlockDeviceGeometry } from './block-device.js';
export { addPartitionNode, deletePartitionNode, resizePartitionNode } from './partition-node.js';
export { freezeFilesystem, syncFilesystem, thawFilesystem, withFrozenFilesystem } from './freeze.js';
export { cloneFile, cloneRange, reflinkCatchUp, type CatchUp } from './clone.js';
export { fileBoundaryOffsets, fileExtents, FileExtentFlag, type FileExtent } from './file-extents.js';
export { attachLoop, loopStatus, detachLoop, partitionNodesOf, type LoopAttachOptions, type LoopStatus } from './loop.js';
export { allocAligned, DirectFile } from './direct-io.js';
export { isNativeError, type NativeError } from './native-error.js';
export { addonPath } from './load.js';
export { hotcoreExecutable } from './hotcore.js';
export { serveFiles, type FuseFileServer, type FuseFileServerOptions, type ServedFile } from './fuse-files.js';
export { tuneAllocatorForBulkData } from './memory.js';
