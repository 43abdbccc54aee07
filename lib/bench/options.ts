// The names the benchmark's --peers flag takes, for `npm run bench` and `symtensor bench` alike.
import { argError } from '../errors';
import { FAMILIES, IMPLS, ImplName } from './harness';

/** Extra --peers names: `pytorch` for torch's two variants, `none` for symtensor alone. */
const ALIASES: Record<string, ImplName[]> = { pytorch: FAMILIES.torch, none: [] };

/** Every name --peers accepts. */
export const PEER_NAMES: readonly string[] = [...Object.keys(FAMILIES), ...Object.keys(ALIASES), ...IMPLS.filter((p) => !FAMILIES[p])];

/**
 * The implementations a --peers list selects, in table order: a family name (symtensor, numpy,
 * torch or pytorch, tfjs …) selects all its implementations, a single name (torch-default …) one,
 * `none` nothing.  With `withSymtensor` the symtensor family is always included (the CLI's
 * `--peers` names only the others).  Throws a SymtensorError listing the valid names for an
 * unknown one.
 * @example selectImpls(['pytorch', 'numpy'], { withSymtensor: true }) // symtensor…, numpy, torch, torch-default
 */
export function selectImpls(names: string[], opts: { withSymtensor: boolean }): ImplName[] {
  const bad = names.filter((p) => !PEER_NAMES.includes(p));
  if (bad.length) throw argError('bench', `unknown peer(s) ${bad.join(', ')}; known: ${PEER_NAMES.join(', ')}`);
  const set = new Set<ImplName>(names.flatMap((p) => FAMILIES[p] ?? ALIASES[p] ?? [p as ImplName]));
  if (opts.withSymtensor) for (const p of FAMILIES.symtensor) set.add(p);
  return IMPLS.filter((p) => set.has(p));
}
