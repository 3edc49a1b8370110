// Validated once, then frozen (STYLE.md, after fastify): the config and every
// component's options are deep-frozen after their one check, so no code downstream
// can change what was checked.

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
