/**
 * The wanted error of t.throws / t.rejects: an error carrying these fields (MediaError's kind,
 * KsError's reason, DeliveryError's httpStatus). tap matches any fields of the error; its types
 * take a pattern only with one of message, name, code, cause or errors, so the name is matched
 * too: any ...Error.
 */
export const errorWith = <F extends Record<string, unknown>>(fields: F): F & { name: RegExp } => ({ name: /Error$/, ...fields });
