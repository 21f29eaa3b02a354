/** An image attachment full size, over the page; Esc, the button or a click anywhere closes it. */
import { useEffect, useRef } from 'react';
import type { AttachmentInfo } from '../evidence/attachment-shelf';

export const fileUrl = (id: string) => `/api/attachments/${encodeURIComponent(id)}`;

export function ImageViewer({ image, onClose }: { image: AttachmentInfo; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="image-viewer" aria-label={image.name} onClose={onClose} onClick={() => dialog.current?.close()}>
      <img src={fileUrl(image.id)} alt={image.name} />
      <div className="image-viewer-bar">
        <span>{image.name}</span>
        <button type="button" className="quiet small" autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}
