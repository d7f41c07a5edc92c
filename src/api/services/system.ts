// system, user and metadata_metadata: the small actions clients call around the real work.
import { listArgs } from '../args.js';
import { ApiError } from '../errors.js';
import type { ServiceModule } from '../types.js';

export const systemService: ServiceModule = {
  name: 'system',
  description: 'Liveness and clock',
  actions: {
    ping: { auth: 'none', params: {}, returns: 'bool', handler: () => true },
    getTime: { auth: 'none', params: {}, returns: 'int', handler: (ctx) => ctx.now },
  },
};

export const userService: ServiceModule = {
  name: 'user',
  description: 'Users (only the session\'s own user is known)',
  actions: {
    get: {
      description: 'The user of the session (users are not stored, so no other user is known)',
      params: { userId: { type: 'string', maxLength: 100 } },
      returns: 'KalturaUser',
      throws: ['INVALID_USER_ID'],
      handler(ctx, a) {
        const ks = ctx.ks!;
        const id: string = a.userId ?? ks.userId;
        // users are not stored: a session knows only its own user
        if (!id || id !== ks.userId) throw new ApiError('INVALID_USER_ID');
        return {
          objectType: 'KalturaUser', id, partnerId: ks.partnerId, screenName: id, type: 0, status: 1,
          isAdmin: ks.isAdmin, createdAt: ctx.now, updatedAt: ctx.now,
        };
      },
    },
  },
};

export const metadataService: ServiceModule = {
  name: 'metadata_metadata',
  description: 'Custom metadata (none is stored: lists are empty)',
  actions: {
    list: {
      params: listArgs('KalturaMetadataFilter'),
      returns: 'KalturaMetadataListResponse',
      handler: () => ({ objectType: 'KalturaMetadataListResponse', objects: [], totalCount: 0 }),
    },
  },
};
