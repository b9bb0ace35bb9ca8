// Recording wrapper around a real CNI plugin, for tests where no reference plugin consumes what
// multinet hands a delegate (`deviceID`, `pciBusID`, runtimeConfig `deviceID` and
// `CNIDeviceInfoFile`). Plugin object keys:
//   recordingDelegate    the real plugin's type, looked up in CNI_PATH (required but for VERSION);
//   recordingFile        absolute path of a JSON-lines file: one line per call with the command,
//                        CNI_CONTAINERID, CNI_IFNAME and the config exactly as received;
//   recordingDeviceIdAs  "device" (optional): hand the real plugin the received device ID as its
//                        `device` (a link name), without `deviceID`, `pciBusID` and runtimeConfig
//                        `deviceID`. The reference host-device reads those as a PCI address; the
//                        test devices are veth ends, which have none. Nothing else is changed.
// The real plugin gets the same environment and stdin (minus the recording* keys); its stdout
// and exit code are the wrapper's.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const stdin = readFileSync(0, 'utf8');
const command = process.env.CNI_COMMAND ?? '';
const conf = JSON.parse(stdin);

if (command === 'VERSION' && !conf.recordingDelegate) {
  // The versions of the wrapped reference plugins (containernetworking/plugins 1.1.1).
  process.stdout.write(
    JSON.stringify({
      cniVersion: conf.cniVersion ?? '1.0.0',
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'],
    }),
  );
  process.exit(0);
}

const { recordingDelegate: delegate, recordingFile: file, recordingDeviceIdAs: deviceAs, ...rest } = conf;
if (typeof file === 'string' && command !== 'VERSION')
  appendFileSync(
    file,
    `${JSON.stringify({
      command,
      containerId: process.env.CNI_CONTAINERID ?? '',
      ifName: process.env.CNI_IFNAME ?? '',
      received: conf,
    })}\n`,
  );

const forward = { ...rest };
if (deviceAs === 'device') {
  const id = conf.runtimeConfig?.deviceID ?? conf.deviceID;
  if (typeof id === 'string' && id !== '') forward.device = id;
  delete forward.deviceID;
  delete forward.pciBusID;
  if (forward.runtimeConfig) {
    const { deviceID: _drop, ...rc } = forward.runtimeConfig;
    forward.runtimeConfig = rc;
  }
}

const dirs = (process.env.CNI_PATH ?? '').split(':').filter((d) => d.startsWith('/'));
const bin = dirs.map((d) => join(d, String(delegate))).find((p) => existsSync(p));
if (!bin || typeof delegate !== 'string' || delegate.includes('/')) {
  process.stdout.write(
    JSON.stringify({
      code: 7,
      msg: `recording wrapper: plugin ${JSON.stringify(delegate)} not found in CNI_PATH`,
    }),
  );
  process.exit(1);
}
const r = spawnSync(bin, [], {
  input: JSON.stringify(forward),
  env: process.env,
  stdio: ['pipe', 'inherit', 'inherit'],
});
process.exit(r.status ?? 1);
