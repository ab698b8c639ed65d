export { exportClusters, ExportError, type ExportCluster, type ExportInput, type ExportMode, type ExportResult, type ExportIo } from './folders';
export { exportImageFolderForTraining } from './training-layout';
export { safeFileName } from './safe-name';
