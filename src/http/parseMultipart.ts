import busboy from 'busboy';
import type { Context } from 'koa';
import { BadInput } from '../shared/errors.js';

export interface Multipart {
  fields: Record<string, string>;
  files: Record<string, Buffer>;
}

/**
 * Reads a multipart/form-data body (document images) into memory, with hard limits: only the
 * named files and fields, each file at most `maxFileBytes`. Images never touch the disk. A
 * couple of other parts (an older form's extra file) are read past and dropped, not kept.
 */
export async function parseMultipart(ctx: Context, opts: { files: readonly string[]; fields: readonly string[]; maxFileBytes: number }): Promise<Multipart> {
  if (!ctx.is('multipart/form-data')) throw new BadInput('bad_request');
  return new Promise<Multipart>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: ctx.req.headers, limits: { files: opts.files.length + 2, fields: opts.fields.length + 2, fileSize: opts.maxFileBytes, fieldSize: 4096, parts: opts.files.length + opts.fields.length + 4 } });
    } catch {
      reject(new BadInput('bad_request'));
      return;
    }
    const out: Multipart = { fields: {}, files: {} };
    let failure: BadInput | undefined;
    bb.on('file', (name, stream) => {
      if (!opts.files.includes(name)) { stream.resume(); return; }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => { failure = new BadInput('file_too_large', name); });
      stream.on('close', () => { if (!failure) out.files[name] = Buffer.concat(chunks); });
    });
    bb.on('field', (name, value) => { if (opts.fields.includes(name)) out.fields[name] = value; });
    bb.on('error', () => reject(new BadInput('bad_request')));
    bb.on('close', () => (failure ? reject(failure) : resolve(out)));
    ctx.req.pipe(bb);
  });
}
