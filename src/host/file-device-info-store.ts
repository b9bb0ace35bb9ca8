import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DeviceInfoFiles, PreparedDeviceInfo } from '../engine/engine-deps.ts';
import type { DeviceInfo } from '../spec/device-info.ts';
import {
  DEVICE_INFO_MAX_BYTES,
  devicePluginFileName,
  formatDeviceInfo,
  parseDeviceInfo,
} from '../spec/device-info.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { readFileNoFollow } from './read-file-no-follow.ts';
import { ensurePrivateDir } from './private-dir.ts';

/**
 * Device-info files on disk (device-info spec §4), under `<root>/dp/` (written by device plugins,
 * only read here) and `<root>/cni/` (one file per attachment, created by multinet in a directory
 * only root controls, handed to the delegates as CNIDeviceInfoFile, removed at DEL). Both come
 * from other software: a file is read only if it is a regular file (no symlink followed) owned by
 * root and writable by no one else, at most DEVICE_INFO_MAX_BYTES, and a device-info map by the
 * spec's schema.
 */
export class FileDeviceInfoStore implements DeviceInfoFiles {
  readonly dpDir: string;
  readonly cniDir: string;
  private readonly uid: number;

  constructor(root: string, opts: { uid?: number } = {}) {
    this.dpDir = join(root, 'dp');
    this.cniDir = join(root, 'cni');
    this.uid = opts.uid ?? process.geteuid?.() ?? 0;
  }

  async prepare(
    cniFile: string,
    device: { resourceName: string; deviceId: string } | undefined,
  ): Promise<PreparedDeviceInfo> {
    this.checkOwnFile(cniFile);
    await ensurePrivateDir(this.cniDir, this.uid, 'device-info directory');
    // A file left by an earlier attempt must not be taken for what this one's delegates write.
    await rm(cniFile, { force: true });
    if (!device) return {};
    const source = join(this.dpDir, devicePluginFileName(device.resourceName, device.deviceId));
    let info: DeviceInfo | undefined;
    try {
      const text = await this.readTrusted(source);
      if (text === undefined) return {};
      info = parseDeviceInfo(text, `device-info file ${source}`);
    } catch (err) {
      return { problem: (err as Error).message };
    }
    await writeFileAtomic(cniFile, formatDeviceInfo(info));
    return { info, source };
  }

  async read(cniFile: string): Promise<DeviceInfo | undefined> {
    this.checkOwnFile(cniFile);
    const text = await this.readTrusted(cniFile);
    return text === undefined ? undefined : parseDeviceInfo(text, `device-info file ${cniFile}`);
  }

  async remove(cniFile: string): Promise<void> {
    this.checkOwnFile(cniFile);
    await rm(cniFile, { force: true });
  }

  /** The plan names the file; whatever a plan says, only files directly in cniDir are touched. */
  private checkOwnFile(cniFile: string): void {
    if (dirname(cniFile) !== this.cniDir || cniFile.endsWith('/.') || cniFile.endsWith('/..'))
      throw new Error(`${cniFile} is not a file of the device-info directory ${this.cniDir}`);
  }

  /** undefined when the file does not exist. Errors never quote the content. */
  private readTrusted(path: string): Promise<string | undefined> {
    return readFileNoFollow(path, {
      maxBytes: DEVICE_INFO_MAX_BYTES,
      check: (st) => {
        if (st.uid !== 0 && st.uid !== this.uid)
          throw new Error(`${path} is owned by uid ${st.uid}, not root: refusing to read it`);
        if ((st.mode & 0o022) !== 0)
          throw new Error(`${path} is writable by group or others: refusing to read it`);
        if (st.size > DEVICE_INFO_MAX_BYTES)
          throw new Error(
            `${path} is ${st.size} bytes, the limit is ${DEVICE_INFO_MAX_BYTES}: not a device-info file`,
          );
      },
    });
  }
}
