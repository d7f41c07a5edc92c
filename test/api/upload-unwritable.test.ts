// uploadToken.upload where the upload cannot be written: an uploads folder this server's user may
// not write (EACCES, as run by `kdeliver serve` as nobody over a folder root made), a path taken
// by something else. The answer is the reference's UPLOAD_ERROR saying why and where to resume,
// as for a full disk; it was "Internal server error occurred" and nothing more. The token takes
// the upload once the folder is mended. Root may write anywhere, so the test blocks the paths
// themselves (EEXIST, EISDIR): the same mkdir and open fail, as EACCES made them fail for a
// server run as nobody.
import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminApiSession } from '../helpers/api-session.js';
import { startServer } from '../helpers/server.js';

t.test('uploadToken.upload into a path that cannot be written: UPLOAD_ERROR with the reason, then the upload goes on', async (t) => {
  const s = await startServer(t);
  const { ks, api, upload } = await adminApiSession(s.url);
  const token = (await api('uploadToken', 'add', { uploadToken: { objectType: 'KalturaUploadToken', fileName: 'clip.mp4', fileSize: 2000 } })).id as string;
  const uploads = join(s.dataDir, 'uploads');
  const chunk = Buffer.alloc(1000, 7);

  // the uploads folder's name taken by a file: the folder cannot be made
  rmSync(uploads, { recursive: true, force: true });
  writeFileSync(uploads, 'not a folder');
  let r = await upload(token, chunk, { resume: false, resumeAt: 0, finalChunk: false });
  t.equal(r.code, 'UPLOAD_ERROR', 'the reference\'s upload error');
  t.match(r.message, /^Upload failed: the chunk could not be written \(EEXIST\); try again from byte 0$/, 'saying why and where to go on');
  t.notMatch(r.message, s.dataDir, 'no path of the server\'s');
  rmSync(uploads);

  // the token's file's name taken by a folder: the file cannot be opened
  mkdirSync(join(uploads, token), { recursive: true });
  r = await upload(token, chunk, { resume: false, resumeAt: 0, finalChunk: false });
  t.equal(r.code, 'UPLOAD_ERROR', 'the reference\'s upload error');
  t.match(r.message, /the chunk could not be written \(EISDIR\); try again from byte 0$/, 'saying why');
  rmSync(join(uploads, token), { recursive: true });

  // mended: the upload goes on
  r = await upload(token, chunk, { resume: false, resumeAt: 0, finalChunk: false });
  t.equal(r.uploadedFileSize, 1000, 'the first chunk taken');
  r = await upload(token, chunk, { resume: true, resumeAt: -1, finalChunk: true });
  t.match(r, { uploadedFileSize: 2000, status: 2 }, 'the last one completes it');
});
