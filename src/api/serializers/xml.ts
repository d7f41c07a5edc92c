// format=2 (and the default): <xml><result>…</result><executionTime>…</executionTime></xml>, built
// with xmlbuilder2. An object is its objectType element then one element per property; arrays are
// repeated <item>; booleans are 1/0; an error is <error> with code, message, objectType and args.
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { isApiError, type ApiError } from '../errors.js';

/**
 * Characters XML 1.0 cannot carry at all (controls, U+FFFE, U+FFFF) are dropped: a name sent with
 * one would otherwise make every XML answer that holds it unreadable to every client.
 */
export const xmlSafe = (s: string): string => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');

function addValue(node: XMLBuilder, v: unknown, ignoreNull: boolean): void {
  if (v === null || v === undefined) return;
  if (isApiError(v)) return addError(node, v);
  if (typeof v === 'boolean') { node.txt(v ? '1' : '0'); return; }
  if (typeof v !== 'object') { node.txt(xmlSafe(String(v))); return; }
  if (Array.isArray(v)) {
    for (const item of v) addValue(node.ele('item'), item, ignoreNull);
    return;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.objectType === 'string') {
    node.ele('objectType').txt(o.objectType);
    for (const [k, val] of Object.entries(o)) {
      if (k === 'objectType' || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k)) continue;
      if ((val === null || val === undefined) && ignoreNull) continue;
      addValue(node.ele(k), val, ignoreNull);
    }
    return;
  }
  // a map (no objectType): items with their key
  for (const [k, val] of Object.entries(o)) {
    const item = node.ele('item');
    item.ele('itemKey').txt(xmlSafe(k));
    addValue(item, val, ignoreNull);
  }
}

function addError(node: XMLBuilder, e: ApiError): void {
  const err = node.ele('error');
  err.ele('code').txt(e.code);
  err.ele('message').txt(xmlSafe(e.message));
  err.ele('objectType').txt('KalturaAPIException');
  const args = err.ele('args');
  for (const [name, value] of Object.entries(e.args)) {
    const item = args.ele('item');
    item.ele('objectType').txt('KalturaApiExceptionArg');
    item.ele('name').txt(name);
    item.ele('value').txt(xmlSafe(String(value)));
  }
}

export function toXml(result: unknown, opts: { multi: boolean; executionTime: number; ignoreNull: boolean }): string {
  const doc = create({ version: '1.0', encoding: 'utf-8' });
  const root = doc.ele('xml');
  const res = root.ele('result');
  if (opts.multi && Array.isArray(result)) for (const r of result) addValue(res.ele('item'), r, opts.ignoreNull);
  else addValue(res, result, opts.ignoreNull);
  root.ele('executionTime').txt(opts.executionTime.toFixed(4));
  return doc.end({ prettyPrint: false });
}
