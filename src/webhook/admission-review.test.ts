import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AdmissionReviewError,
  MAX_DENIAL_LINES,
  parseAdmissionReview,
  toAdmissionReview,
} from './admission-review.ts';

const review = (request: unknown) =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const pod = {
  uid: 'abc',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  namespace: 'ns',
  object: { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'p-' } },
};

describe('parseAdmissionReview', () => {
  it('reads what the checks need', () => {
    assert.deepEqual(parseAdmissionReview(review(pod)), {
      uid: 'abc',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: 'ns',
      name: '',
      object: pod.object,
    });
  });

  it('refuses what is not a v1 review, and bounds size and depth', () => {
    const cases: [string, RegExp][] = [
      ['{', /failed to decode the AdmissionReview/],
      ['[]', /must be a JSON object/],
      [
        JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview' }),
        /admissionReviewVersions: \[v1\]/,
      ],
      [review(null), /request: missing/],
      [review({ ...pod, uid: 7 }), /request\.uid: must be a string/],
      [review({ ...pod, kind: 'Pod' }), /request\.kind: missing or not an object/],
      [
        review({ ...pod, object: JSON.parse('['.repeat(70) + ']'.repeat(70)) as unknown }),
        /nested too deeply/,
      ],
    ];
    for (const [body, reason] of cases)
      assert.throws(
        () => parseAdmissionReview(body),
        (err: unknown) => err instanceof AdmissionReviewError && reason.test(err.message),
        body.slice(0, 80),
      );
    assert.throws(() => parseAdmissionReview(review(pod), 100), /too large/);
  });
});

describe('toAdmissionReview', () => {
  it('answers the uid; a denial carries the problems one a line, capped', () => {
    assert.deepEqual(toAdmissionReview('u', { allowed: true, problems: [], warnings: [] }), {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u', allowed: true },
    });
    const problems = Array.from({ length: MAX_DENIAL_LINES + 5 }, (_, i) => `problem ${i}`);
    const denied = toAdmissionReview('u', { allowed: false, problems, warnings: ['w\u00e9'] });
    const response = denied['response'] as { status: { code: number; message: string }; warnings: string[] };
    assert.equal(response.status.code, 403);
    const lines = response.status.message.split('\n');
    assert.deepEqual(lines.slice(0, 2), ['problem 0', 'problem 1']);
    assert.equal(lines.length, MAX_DENIAL_LINES + 1);
    assert.equal(lines.at(-1), '... and 5 more (multinet validate lists them all)');
    // Warnings travel as HTTP headers: plain ASCII.
    assert.deepEqual(response.warnings, ['w\\u00e9']);
  });
});
