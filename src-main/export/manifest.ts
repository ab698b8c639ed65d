import type { ExportedFile, ExportInput } from './export-input';

// clusters.csv and clusters.json: one row / entry per exported photo, so another tool can rebuild
// the export (or read the grouping without any files) from either.

const CSV_COLUMNS = ['path', 'source', 'cluster_id', 'cluster_name', 'folder', 'similarity', 'model', 'clustering_id', 'clustering_params'] as const;

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(x: string | number): string {
  const s = String(x);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A text cell a spreadsheet will not run: one that starts with = + - @ (or a tab or carriage return,
 * which some spreadsheets skip before looking) gets a leading apostrophe, as OWASP advises for CSV
 * injection. A cluster named =HYPERLINK(...) would otherwise be a live formula in clusters.csv.
 * Numbers are written as numbers (a negative similarity stays -0.5).
 */
function csvText(s: string): string {
  return csvField(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
}

export function manifestCsv(input: ExportInput, files: readonly ExportedFile[]): string {
  const params = JSON.stringify(input.clustering.params);
  const lines = [CSV_COLUMNS.join(',')];
  for (const f of files) {
    lines.push(
      [
        csvText(f.path), csvText(f.source), csvField(f.clusterId), csvText(f.clusterName), csvText(f.folder ?? ''),
        csvField(f.similarity.toFixed(6)), csvText(input.model.name), csvField(input.clustering.id), csvText(params),
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function manifestJson(input: ExportInput, files: readonly ExportedFile[], mode: string): string {
  const clusters = input.clusters.map((c) => {
    const own = files.filter((f) => f.clusterId === c.id);
    return {
      id: c.id,
      name: c.name,
      folder: own[0]?.folder ?? null,
      size: own.length,
      files: own.map((f) => ({ path: f.path, source: f.source, similarity: f.similarity })),
    };
  });
  return `${JSON.stringify(
    {
      createdAt: new Date().toISOString(),
      mode,
      model: input.model,
      clustering: input.clustering,
      clusters,
    },
    null,
    2,
  )}\n`;
}
