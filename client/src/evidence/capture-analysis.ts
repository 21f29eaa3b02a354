/**
 * A capture's analysis as `GET /api/attachments/:id/analysis` answers it: the parts the web app
 * shows (the server's CaptureAnalysis has more), or how far it has got.
 */
export interface IoView {
  bucketMs: number;
  /** Bytes per bucket, from the first packet on. */
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
  /** The 1 ms view, and coarser ones (10, 100, 1000 ms). */
  ioGraph: IoView & { views: IoView[] };
  bursts: { capacityBytesPerMs: number; msOverCapacity: number };
  conversations: Array<{ conversation: string; packets: number; bytes: number }>;
  protocols: Array<{ protocol: string; packets: number; bytes: number }>;
  warnings: string[];
}

export type AnalysisState =
  | { status: 'pending' }
  | { status: 'running'; bytesRead: number; totalBytes: number }
  | { status: 'failed'; error: string }
  | CaptureAnalysis;
