import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets a tenant gives Autopilot (an action's token, a Slack signing
 * secret) are kept encrypted: AES-256-GCM under AUTOPILOT_SECRET_KEY (32
 * bytes, base64 or hex), a fresh 12-byte nonce per value, the tenant and the
 * field as associated data, so a sealed value copied into another tenant's or
 * another field's row does not open. The sealed form is text:
 * `v1:<nonce>:<ciphertext>:<tag>` in base64url. Without the key nothing is
 * sealed or opened: configuring a secret is refused with a clear error.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The box for AUTOPILOT_SECRET_KEY, or undefined when it is not set; a key of the wrong size stops the start. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SecretBox | undefined {
    const text = env.AUTOPILOT_SECRET_KEY;
    if (!text) return undefined;
    const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (key.length !== 32) throw new Error('AUTOPILOT_SECRET_KEY must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)');
    return new SecretBox(key);
  }

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('a secret box key is 32 bytes');
    return new SecretBox(key);
  }

  seal(plain: string, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', nonce, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join(':');
  }

  /** The plain text, or an Error when the value was not sealed by this key for this context. */
  open(sealed: string, context: string): string {
    const [version, nonce, body, tag] = sealed.split(':');
    if (version !== 'v1' || !nonce || body === undefined || !tag) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('the secret does not open with AUTOPILOT_SECRET_KEY (another key, or another tenant or field)');
    }
  }

  /** A short fingerprint of a secret for logs and the API ("…a3f9"): enough to tell two apart, nothing to guess from. */
  static fingerprint(plain: string): string {
    return `sha256:${createHash('sha256').update(plain).digest('hex').slice(0, 8)}`;
  }
}
