import busboy from 'busboy';
import type { Context } from 'koa';
import { AppError, BadInput } from '../shared/errors.js';
import { assertCsrf } from './middleware/csrf.js';

export interface Multipart {
  fields: Record<string, string>;
  files: Record<string, Buffer>;
}

export interface UploadSpec {
  files: readonly string[];
  /** Text fields besides `_csrf` (always read). */
  fields: readonly string[];
  maxFileBytes: number;
}

/**
 * Reads a multipart/form-data body (document images) into memory, with hard limits: only the
 * named files and fields, each file at most `maxFileBytes`. Images never touch the disk.
 *
 * The CSRF token (`_csrf`) must come before the files, as OneDoor's forms put it: it is checked
 * as the first file part starts, so a forged upload is answered 403 before a byte of any file is
 * read, and the rest of the body is left unread.
 *
 * A couple of other parts (an older form's extra file) are read past and dropped, not kept.
 */
export async function parseMultipart(ctx: Context, opts: UploadSpec): Promise<Multipart> {
  if (!ctx.is('multipart/form-data')) throw new BadInput('bad_request');
  return new Promise<Multipart>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: ctx.req.headers, limits: { files: opts.files.length + 2, fields: opts.fields.length + 2, fileSize: opts.maxFileBytes, fieldSize: 4096, parts: opts.files.length + opts.fields.length + 5 } });
    } catch {
      reject(new BadInput('bad_request'));
      return;
    }
    const out: Multipart = { fields: {}, files: {} };
    let failure: AppError | undefined;
    let checked = false;
    /** The token, once: from the fields read so far. A refusal stops reading the body. */
    const checkToken = (): boolean => {
      if (checked) return true;
      checked = true;
      try {
        assertCsrf(ctx, out.fields['_csrf']);
        return true;
      } catch (err) {
        failure = err as AppError;
        ctx.req.unpipe(bb);
        bb.removeAllListeners('file');
        ctx.set('connection', 'close');
        reject(failure);
        return false;
      }
    };
    bb.on('file', (name, stream) => {
      if (!checkToken()) { stream.destroy(); return; }
      if (!opts.files.includes(name)) { stream.resume(); return; }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => { failure = new BadInput('file_too_large', name); });
      stream.on('close', () => { if (!failure) out.files[name] = Buffer.concat(chunks); });
    });
    bb.on('field', (name, value) => { if (name === '_csrf' || opts.fields.includes(name)) out.fields[name] = value; });
    bb.on('error', () => reject(failure ?? new BadInput('bad_request')));
    bb.on('close', () => {
      if (!checkToken()) return;
      if (failure) reject(failure);
      else resolve(out);
    });
    ctx.req.pipe(bb);
  });
}
