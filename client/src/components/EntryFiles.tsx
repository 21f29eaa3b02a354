/**
 * The evidence an entry carries: image thumbnails (click for full size), captures with their
 * analysis, other files to download, uploads under way with their progress, and links to evidence
 * that lives elsewhere.
 */
import { lazy, Suspense, useEffect, useState } from 'react';
import type * as Y from 'yjs';
import type { Entry } from '../../../shared/schema/doc';
import { removeAttachment, removeLink, unique } from '../collab/entry-evidence';
import type { AttachmentInfo } from '../evidence/attachment-shelf';
import { useEvidence } from '../evidence/incident-evidence';
import { formatBytes } from '../numbers';
import { safeHref } from '../safe-url';
import { useStore } from '../store';
import { useUndoable } from './UndoBar';
import { fileUrl, ImageViewer } from './ImageViewer';

// The graph library loads only when an entry carries a capture.
const CaptureView = lazy(() => import('./CaptureView').then((m) => ({ default: m.CaptureView })));

interface Props {
  doc: Y.Doc;
  entry: Entry;
  canWrite: boolean;
}

function Remove({ name, onClick }: { name: string; onClick: () => void }) {
  return (
    <button type="button" className="quiet small unlink" aria-label={`Remove ${name} from this entry`} onClick={onClick}>
      ×
    </button>
  );
}

export function EntryFiles({ doc, entry, canWrite }: Props) {
  const { attachments: shelf } = useEvidence();
  const known = useStore(shelf.byId);
  const undoable = useUndoable();
  const uploads = useStore(shelf.uploads).filter((u) => u.entryId === entry.id);
  const [viewing, setViewing] = useState<AttachmentInfo>();
  const ids = unique(entry.attachments);
  // Someone else's upload: this page learns what it is from the incident's list.
  const unknown = ids.some((id) => !known.has(id));
  useEffect(() => {
    if (unknown) shelf.load().catch(() => undefined);
  }, [unknown, shelf]);

  const files = ids.flatMap((id) => known.get(id) ?? []);
  const images = files.filter((f) => f.kind === 'image');
  const captures = files.filter((f) => f.kind === 'capture');
  const others = files.filter((f) => f.kind !== 'image' && f.kind !== 'capture');
  // An "×" takes the file off at once, as one step that Undo (the notice, Ctrl+Z) puts back.
  const detach = (file: AttachmentInfo) => () => undoable(`Removed “${file.name}”`, () => removeAttachment(doc, entry.id, file.id));
  if (ids.length === 0 && uploads.length === 0 && entry.links.length === 0) return null;

  return (
    <section className="entry-files" aria-label="Evidence">
      {images.length > 0 && (
        <ul className="thumbnails">
          {images.map((image) => (
            <li key={image.id}>
              <button type="button" className="thumb" onClick={() => setViewing(image)} title={`${image.name}: view full size`}>
                <img src={fileUrl(image.id)} alt={image.name} loading="lazy" />
              </button>
              {canWrite && <Remove name={image.name} onClick={detach(image)} />}
            </li>
          ))}
        </ul>
      )}
      {captures.map((capture) => (
        <Suspense key={capture.id} fallback={<p className="hint">{capture.name}</p>}>
          <CaptureView capture={capture} onRemove={canWrite ? detach(capture) : undefined} />
        </Suspense>
      ))}
      {(others.length > 0 || entry.links.length > 0) && (
        <ul className="files">
          {others.map((file) => (
            <li key={file.id}>
              <a href={fileUrl(file.id)} download={file.name}>
                {file.name}
              </a>
              <span className="hint">{formatBytes(file.size)}</span>
              {canWrite && <Remove name={file.name} onClick={detach(file)} />}
            </li>
          ))}
          {entry.links.map((link, i) => {
            const href = safeHref(link.url);
            return (
              <li key={`${i}:${link.url}`}>
                {href ? (
                  <a href={href} target="_blank" rel="noopener noreferrer">
                    {link.label || link.url}
                  </a>
                ) : (
                  <span>{link.label || link.url}</span>
                )}
                <span className="hint link-host">{href ? new URL(href).host : 'not a web link'}</span>
                {canWrite && <Remove name={link.label || link.url} onClick={() => undoable(`Removed link “${link.label || link.url}”`, () => removeLink(doc, entry.id, link))} />}
              </li>
            );
          })}
        </ul>
      )}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((upload) => (
            <li key={upload.key} aria-label={upload.name}>
              <span className="upload-name">{upload.name}</span>
              {upload.error ? (
                <>
                  <span className="error-text" role="alert">
                    {upload.error}
                  </span>
                  <button type="button" className="quiet small" onClick={() => shelf.dismiss(upload.key)}>
                    Dismiss
                  </button>
                </>
              ) : (
                <>
                  <progress max={upload.size} value={upload.sent} />
                  <span className="hint">
                    {formatBytes(upload.sent)} of {formatBytes(upload.size)}
                  </span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {viewing && <ImageViewer image={viewing} onClose={() => setViewing(undefined)} />}
    </section>
  );
}
