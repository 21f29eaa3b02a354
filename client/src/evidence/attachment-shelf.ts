/**
 * The incident's files as this page knows them: what each attachment id an entry references is
 * (name, size, kind), the uploads under way with their progress, and how far each capture's analysis
 * has got. Kept per page, not per entry, so an upload survives its entry scrolling out of the log.
 */
import type * as Y from 'yjs';
import type { AttachmentKind } from '../../../shared/attachments';
import type { CaptureAnalysisEvent } from '../../../shared/events';
import type { ApiError } from '../../../shared/model';
import { api } from '../api';
import { addAttachment } from '../collab/entry-evidence';
import { Store } from '../store';

export interface AttachmentInfo {
  id: string;
  name: string;
  size: number;
  sha256: string;
  kind: AttachmentKind;
  /** As the API gives them (the timeline places a file at its upload). */
  uploadedAt?: string;
  uploadedBy?: string;
}

export interface Upload {
  key: number;
  entryId: string;
  name: string;
  size: number;
  sent: number;
  error?: string;
}

let uploadCount = 0;

export class AttachmentShelf {
  readonly byId = new Store<ReadonlyMap<string, AttachmentInfo>>(new Map());
  readonly uploads = new Store<readonly Upload[]>([]);
  readonly analyses = new Store<ReadonlyMap<string, CaptureAnalysisEvent>>(new Map());
  private loading: Promise<void> | undefined;

  constructor(readonly incidentId: string) {}

  /** The incident's attachments; again when an entry references one this page has not heard of. */
  load(): Promise<void> {
    this.loading ??= api<AttachmentInfo[]>('GET', `/api/incidents/${encodeURIComponent(this.incidentId)}/attachments`)
      .then((list) => this.byId.set(new Map([...this.byId.get(), ...list.map((a) => [a.id, a] as const)])))
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  analysisMoved = (event: CaptureAnalysisEvent): void => {
    if (event.incidentId === this.incidentId) this.analyses.set(new Map(this.analyses.get()).set(event.attachmentId, event));
  };

  /** Uploads each file and, once the server has it, references it from the entry. */
  attachFiles(doc: Y.Doc, entryId: string, files: Iterable<File>): void {
    for (const file of files) {
      void this.upload(entryId, file).then((info) => info && addAttachment(doc, entryId, info.id));
    }
  }

  /**
   * Sends a file with XMLHttpRequest, which (unlike fetch) reports upload progress. Answers the new
   * attachment, or undefined when it was refused: the refusal then stays on the entry until dismissed.
   */
  upload(entryId: string, file: File): Promise<AttachmentInfo | undefined> {
    const key = ++uploadCount;
    this.setUpload({ key, entryId, name: file.name || 'pasted image', size: file.size, sent: 0 });
    const body = new FormData();
    body.append('file', file, file.name || 'pasted.png');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/incidents/${encodeURIComponent(this.incidentId)}/attachments`);
    xhr.upload.onprogress = (e) => this.updateUpload(key, { sent: e.loaded });
    return new Promise((resolve) => {
      xhr.onload = () => {
        if (xhr.status === 201) {
          const info = JSON.parse(xhr.responseText) as AttachmentInfo;
          this.byId.set(new Map(this.byId.get()).set(info.id, info));
          this.dismiss(key);
          return resolve(info);
        }
        const refusal = (() => {
          try {
            return (JSON.parse(xhr.responseText) as ApiError).error;
          } catch {
            return `the server answered ${xhr.status}`;
          }
        })();
        this.updateUpload(key, { error: refusal });
        resolve(undefined);
      };
      xhr.onerror = () => {
        this.updateUpload(key, { error: 'the upload did not reach the server (network)' });
        resolve(undefined);
      };
      xhr.send(body);
    });
  }

  dismiss(key: number): void {
    this.uploads.set(this.uploads.get().filter((u) => u.key !== key));
  }

  private setUpload(upload: Upload): void {
    this.uploads.set([...this.uploads.get(), upload]);
  }

  private updateUpload(key: number, change: Partial<Upload>): void {
    this.uploads.set(this.uploads.get().map((u) => (u.key === key ? { ...u, ...change } : u)));
  }
}
