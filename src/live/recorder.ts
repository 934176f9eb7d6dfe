import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Channel, LiveShowRecord } from '../playout/channel.js';
import type { Station } from '../playout/station.js';

/**
 * Live shows recorded as they went on air: from the frame that carried the
 * DJ's first audio to the one before the playlist's return, the very MP3
 * bytes listeners received (the channel's `audio` between `live-start` and
 * `live-end`), for channels with `live.record`. One file per show, named by
 * channel, DJ and start time; the show's history entry names it.
 */
export class ShowRecorder {
  constructor(
    station: Station,
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    for (const c of station.channels) this.attach(c);
    station.on('channel-added', (c: Channel) => this.attach(c));
  }

  private attach(channel: Channel): void {
    let file: WriteStream | null = null;
    let bytes = 0;
    const audio = (data: Buffer): void => {
      bytes += data.length;
      file?.write(data);
    };
    channel.on('live-start', (show: LiveShowRecord) => {
      if (!channel.playlist.live.record) return;
      const name = `${channel.id}-${show.dj}-${show.startedAt.replace(/[:.]/g, '-')}.mp3`;
      const where = path.join(this.dir, name);
      try {
        mkdirSync(this.dir, { recursive: true });
      } catch (err) {
        this.log.warn(
          { channel: channel.id, dir: this.dir, err: (err as Error).message },
          'live: cannot record the show: the recordings folder cannot be made',
        );
        return;
      }
      file = createWriteStream(where, { flags: 'wx', mode: 0o640 });
      file.on('error', (err) => {
        this.log.warn(
          { channel: channel.id, file: where, err: err.message, bytes },
          'live: recording stopped before the show: the file cannot be written (it holds only the start)',
        );
        channel.off('audio', audio);
        // Listed as cut short, not as a complete recording.
        show.recordingError = `stopped after ${bytes} bytes: ${err.message}`;
        file = null;
      });
      bytes = 0;
      show.recording = where;
      channel.on('audio', audio);
      this.log.info({ channel: channel.id, dj: show.dj, file: where }, 'live: recording the show');
    });
    channel.on('live-end', (show: LiveShowRecord) => {
      if (!file) return;
      channel.off('audio', audio);
      const closing = file;
      file = null;
      // A write that fails as the file is flushed (the disk filled at the end) is caught here too.
      closing.end(() => {
        if (show.recordingError) return;
        this.log.info({ channel: channel.id, dj: show.dj, file: show.recording, seconds: show.seconds, bytes }, 'live: show recorded');
      });
    });
  }
}
