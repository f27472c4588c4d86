// What a test makes is released at the test's end even when its body never gets there: vitest fails a test that runs
// past its timeout but cannot stop its body, so the body's `await using` blocks never close. Each helper hands what it
// makes to `scoped`; when the test finishes (passed, failed or timed out) its resources are released in the reverse
// order of their making. Releasing is once only, so for a body that released them itself this does nothing.
// Resources made outside a test (beforeAll, afterAll) are left to their owner.
import { onTestFinished, TestRunner } from 'vitest';

let current: { test: object; releases: (() => Promise<void>)[] } | undefined;

export function scoped<T extends AsyncDisposable>(resource: T): T {
  const test: object | undefined = TestRunner.getCurrentTest();
  if (test === undefined) return resource;
  const release = resource[Symbol.asyncDispose].bind(resource);
  let released: Promise<void> | undefined;
  const once = (): Promise<void> => (released ??= Promise.resolve(release()));
  (resource as { [Symbol.asyncDispose]: () => PromiseLike<void> })[Symbol.asyncDispose] = once;
  if (current?.test !== test) {
    const scope = { test, releases: [] as (() => Promise<void>)[] };
    try {
      onTestFinished(async () => {
        // A retried or repeated test is the same object again: its next attempt starts a scope of its own.
        if (current === scope) current = undefined;
        for (const r of scope.releases.reverse()) await r().catch(() => undefined);
      });
    } catch {
      // No test is running (a hook after the tests): the resource's owner releases it.
      return resource;
    }
    current = scope;
  }
  current.releases.push(once);
  return resource;
}
