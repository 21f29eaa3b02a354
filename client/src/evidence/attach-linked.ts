/**
 * Linking an alert to an entry attaches it to the incident too (#16), so the alerts panel, its
 * counts and the export tell the same story as the entry. An alert already on the incident is left
 * as it is; one this page cannot attach (offline, say) stays linked to the entry, and the failure is
 * returned for the page to say.
 */
import type { AlertBook } from './alert-book';

export async function attachLinked(book: AlertBook, alertIds: readonly string[]): Promise<string | undefined> {
  const missing = alertIds.filter((id) => !book.byId.get().get(id)?.incidents.includes(book.incidentId));
  const failed: string[] = [];
  for (const id of missing) {
    try {
      await book.attach(id);
    } catch (err) {
      failed.push(`${book.byId.get().get(id)?.title ?? 'an alert'}: ${(err as Error).message}`);
    }
  }
  return failed.length > 0 ? `Linked to the entry, but not attached to the incident (${failed.join('; ')})` : undefined;
}
