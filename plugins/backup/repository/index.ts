// Image repositories: deduplicated, encrypted snapshots on a local folder or an S3 store (docs/repositories.md).
export { openSnapshotView, repositoryCommands } from './repository-commands.js';
export { localRepositoryKind, s3RepositoryKind, openObjectStore } from './repository-kinds.js';
export type { ObjectStore, RepositoryKind, StoredObject } from './object-store.js';
