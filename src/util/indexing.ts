/**
 * Checked indexing, for the places where the compiler cannot prove an index in range (`noUncheckedIndexedAccess`):
 * a dense array read past its end is a bug, so it throws a RangeError naming what was read instead of letting
 * `undefined` flow on as a number.
 */

/** xs[i]; a RangeError when i is out of range (or the slot is empty). */
export function at<T>(xs: ArrayLike<T>, i: number, what = 'array'): T {
  const v = xs[i];
  if (v === undefined) throw new RangeError(`${what}[${i}] is out of range (length ${xs.length})`);
  return v;
}

/** m[i][j] of a dense matrix (rows of equal length). */
export function at2<T>(m: ArrayLike<ArrayLike<T>>, i: number, j: number, what = 'matrix'): T {
  return at(at(m, i, what), j, what);
}

/** The first element; a RangeError on an empty array. */
export function first<T>(xs: ArrayLike<T>, what = 'array'): T {
  return at(xs, 0, what);
}

/** The last element; a RangeError on an empty array. */
export function last<T>(xs: ArrayLike<T>, what = 'array'): T {
  return at(xs, xs.length - 1, what);
}

/** rec[key] of a string-keyed record (a session's outputs, a graph's named values); a RangeError naming the key when absent. */
export function field<T>(rec: Readonly<Record<string, T>>, key: string, what = 'record'): T {
  const v = rec[key];
  if (v === undefined) throw new RangeError(`${what} has no "${key}"`);
  return v;
}
