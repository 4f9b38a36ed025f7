/** Shared assertions about sshm's errors. */
import { expect } from "vitest";
import { SshmError } from "../../src/common/index.js";

/** Run `fn`, expect an SshmError with exactly this code and message. */
export function throwsExactly(fn: () => unknown, code: string, message: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SshmError);
  expect((err as SshmError).code).toBe(code);
  expect((err as SshmError).message).toBe(message);
}
