import t from 'tap';
import { RcbsError } from '../src/errors.js';
t.test('error exit codes', async (t) => {
  t.equal(new RcbsError('RCBS_LOCK_HELD', 'x').exitCode, 3);
});
