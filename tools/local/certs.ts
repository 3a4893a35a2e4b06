/**
 * A throwaway private CA and a server certificate for the local cluster, made with the `openssl`
 * CLI so that no crypto dependency is needed. Every node uses the same key pair: the servers verify
 * each other (cluster bus and replication run over TLS) against the same CA as the clients do.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalClusterError } from '../../lambda/errors.js';

const run = promisify(execFile);

export interface TlsFiles {
  /** PEM certificate of the private CA: what clients (and the nodes) verify the servers against. */
  readonly caCertFile: string;
  readonly caKeyFile: string;
  /** Server certificate (SAN `IP:127.0.0.1`, `DNS:localhost`) signed by the CA. */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsOptions {
  /** @default 7 */
  readonly validityDays?: number;
}

const OPENSSL_TIMEOUT_MS = 20_000;

// Our own config, so that the result does not depend on the distribution's openssl.cnf.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no

[dn]
CN = slotwatch

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
# clientAuth too: the nodes present this certificate when they dial each other.
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Writes `ca.crt`, `ca.key`, `server.crt` and `server.key` (keys mode 0600) into `dir`. */
export async function generateTlsFiles(dir: string, options: TlsOptions = {}): Promise<TlsFiles> {
  const days = String(options.validityDays ?? 7);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: TlsFiles = {
    caCertFile: join(dir, 'ca.crt'),
    caKeyFile: join(dir, 'ca.key'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
  };
  const config = join(dir, 'openssl.cnf');
  const request = join(dir, 'server.csr');
  await writeFile(config, OPENSSL_CONFIG, { mode: 0o600 });

  await generateKey(files.caKeyFile);
  await openssl(
    ['req', '-x509', '-new', '-config', config, '-extensions', 'ca_ext'],
    ['-key', files.caKeyFile, '-subj', '/CN=slotwatch local CA', '-days', days, '-sha256'],
    ['-out', files.caCertFile],
  );
  await generateKey(files.keyFile);
  await openssl(
    ['req', '-new', '-config', config, '-key', files.keyFile, '-subj', '/CN=localhost'],
    ['-out', request],
  );
  await openssl(
    ['x509', '-req', '-in', request, '-CA', files.caCertFile, '-CAkey', files.caKeyFile],
    ['-set_serial', `0x${randomSerial()}`, '-days', days, '-sha256'],
    ['-extfile', config, '-extensions', 'server_ext', '-out', files.certFile],
  );
  await rm(request, { force: true });
  return files;
}

async function generateKey(file: string): Promise<void> {
  await writeFile(file, '', { mode: 0o600 });
  await openssl(
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    ['-out', file],
  );
  // openssl truncates the existing file (keeping its mode), but be sure whatever it did.
  await chmod(file, 0o600);
}

async function openssl(...argGroups: readonly (readonly string[])[]): Promise<void> {
  const args = argGroups.flat();
  try {
    await run('openssl', args, { timeout: OPENSSL_TIMEOUT_MS });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail = typeof stderr === 'string' && stderr.trim() !== '' ? `: ${stderr.trim()}` : '';
    const hint = (error as { code?: unknown }).code === 'ENOENT' ? ' (is openssl on PATH?)' : '';
    throw new LocalClusterError(`openssl ${args[0] ?? ''} failed${hint}${detail}`, {
      cause: error,
    });
  }
}

/** A random positive 63-bit serial (the top bit cleared keeps it positive). */
function randomSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}
