/** Test setup for simulated SDDC Managers. */
import { Secret } from '../../src/core/secrets';
import { SddcManagerClient } from '../../src/sddc-manager/client';
import { createDispatcher } from '../../src/core/tls';

/** Gives a simulated SDDC Manager the SFTP backup location (and passphrase) its backups need. */
export async function configureSddcBackupLocation(
  appliance: { url: string; username: string; password: string },
  tls: { caFile: string },
  passphrase = 'passphrase-for-tests',
): Promise<void> {
  await new SddcManagerClient({
    url: appliance.url,
    dispatcher: createDispatcher({ tls }),
    credentials: async () => ({ username: appliance.username, password: new Secret(appliance.password) }),
  }).setBackupConfiguration({
    backupLocations: [
      {
        server: 'sftp.example.com',
        port: 22,
        protocol: 'SFTP',
        username: 'backup',
        password: 'x',
        directoryPath: '/backups',
        sshFingerprint: 'SHA256:abc',
      },
    ],
    encryption: { passphrase },
  });
}
