/** Attachments as the API presents them, and the limits both sides must know. */
export const AttachmentKinds = ['image', 'capture', 'text', 'other'] as const;
export type AttachmentKind = (typeof AttachmentKinds)[number];

export interface Attachment {
  id: string;
  incidentId: string;
  /** The uploader's file name, made safe (no directories, no control characters). */
  name: string;
  size: number;
  sha256: string;
  /** Decided from the file's content, never from its name or the client's MIME type. */
  kind: AttachmentKind;
  mime: string;
  uploadedBy: string;
  uploadedAt: string;
}

/** Default upload limits per kind, bytes (configurable on the server). */
export const DefaultUploadLimits: Record<AttachmentKind, number> = {
  image: 25 * 1024 * 1024,
  capture: 2 * 1024 * 1024 * 1024,
  text: 100 * 1024 * 1024,
  other: 100 * 1024 * 1024,
};
