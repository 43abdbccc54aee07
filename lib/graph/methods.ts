// Methods on Variable mirroring the T functions: x.add(y) ≡ T.add(x, y).  Names and types come
// from the one method list (lib/tensor/method-list.ts) that Tensor's methods come from too.  Each
// is wrapped as the public T function is, so its errors name the function and the user's line.
import { MethodsOf, installMethods } from '../tensor/method-list';
import { Variable } from './variable';
import * as T from './T';
import { publicFunction } from './namespace';

declare module './variable' {
  interface Variable extends MethodsOf<typeof T> {}
}

installMethods(Variable.prototype, () => T as unknown as Record<string, unknown>, (f) => publicFunction(f, f.name, new Set([f.name])));
