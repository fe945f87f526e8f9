import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentOrigin, outsideCall } from '../../lib/origin.ts';
import nodemailer from 'nodemailer';
import type { Logger } from '../../lib/log.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  fromName?: string | undefined;
  headers?: Record<string, string> | undefined;
}

export interface Mailer {
  send(m: OutgoingEmail): Promise<{ messageId: string; file: string | null }>;
  close(): void;
}

/**
 * nodemailer: SMTP when SMTP_URL is set; otherwise (embedded mode) each message is written as an .eml file under
 * DATA_DIR/mail and logged, so a developer sees exactly what would have been sent.
 */
export function createMailer(o: { smtpUrl: string | null; from: string; dataDir: string; log: Logger }): Mailer {
  const fromAddress = /<([^>]+)>/.exec(o.from)?.[1] ?? o.from;
  const from = (name?: string) => (name ? { name, address: fromAddress } : o.from);
  if (o.smtpUrl) {
    const transport = nodemailer.createTransport(o.smtpUrl);
    return {
      async send(m) {
        // The request that led to the email is named in a header, and the SMTP exchange is a span of its trace.
        const headers = { ...m.headers, ...(currentOrigin().requestId ? { 'X-Stockroom-Request-Id': currentOrigin().requestId as string } : {}) };
        const info = await outsideCall('email', 'smtp send', {}, () => transport.sendMail({ from: from(m.fromName), to: m.to, subject: m.subject, text: m.text, html: m.html, headers }));
        return { messageId: info.messageId, file: null };
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const dir = join(o.dataDir, 'mail');
  return {
    async send(m) {
      const headers = { ...m.headers, ...(currentOrigin().requestId ? { 'X-Stockroom-Request-Id': currentOrigin().requestId as string } : {}) };
      const info = await transport.sendMail({ from: from(m.fromName), to: m.to, subject: m.subject, text: m.text, html: m.html, headers });
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^A-Za-z0-9.@-]/g, '')}.eml`);
      writeFileSync(file, info.message as Buffer);
      o.log.info({ to: m.to, subject: m.subject, file }, 'email written (no SMTP_URL)');
      return { messageId: info.messageId, file };
    },
    close: () => {},
  };
}
