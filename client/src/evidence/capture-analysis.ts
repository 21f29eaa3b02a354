/**
 * A capture's analysis as `GET /api/attachments/:id/analysis` answers it: the parts the web app
 * shows (the server's CaptureAnalysis has more), or how far it has got.
 */
export interface IoView {
  bucketMs: number;
  /** Where the first bucket starts, ms from the first packet (a piece of the 1 ms graph); 0 if absent. */
  offsetMs?: number;
  /** Bytes per bucket, from `offsetMs` on. */
  bytes: number[];
  peakBytes: number;
}

export interface CaptureAnalysis {
  status: 'done';
  packets: number;
  bytes: number;
  firstPacketAt: string | null;
  lastPacketAt: string | null;
  durationMs: number;
  averageBitsPerSecond: number;
  /**
   * The 1 ms graph's size and peak, and the coarser views (10, 100, 1000 ms): the page asks for
   * `?views=coarse` and gets the 1 ms buckets a piece at a time (`/io?fromMs=&toMs=`).
   */
  ioGraph: { bucketMs: 1; buckets: number; peakBytes: number; views: IoView[] };
  bursts: { capacityBytesPerMs: number; msOverCapacity: number; worst: Array<{ offsetMs: number; bytes: number }> };
  conversations: Array<{ conversation: string; packets: number; bytes: number }>;
  protocols: Array<{ protocol: string; packets: number; bytes: number }>;
  warnings: string[];
}

export type AnalysisState =
  | { status: 'pending' }
  | { status: 'running'; bytesRead: number; totalBytes: number }
  | { status: 'failed'; error: string }
  | CaptureAnalysis;
