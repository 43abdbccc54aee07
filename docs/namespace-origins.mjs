// TypeDoc plugin: the shape of symtensor's namespaces in the API reference.
//
// 1. st.optimizers, st.losses … (lib/models/api.ts) are frozen objects: a module's exports merged
//    with its camelCase factories, typed `Readonly<Omit<typeof module, 'default'> & typeof
//    factories>`.  Their `@namespace` tag makes TypeDoc list the object's properties as a
//    namespace, but a mapped type's properties are synthetic symbols, so `st.optimizers.Adam`
//    would be documented as a variable of type `typeof Adam` and its members lost.  Before the
//    project resolves, each such property that stands for a class, function, interface, type or
//    namespace is replaced by the declaration it came from (TypeScript records it as the symbol's
//    `syntheticOrigin`).
// 2. Tensor's and Variable's methods are typed from whole modules (`MethodsOf<typeof T>`), so
//    typedoc-plugin-missing-exports would document lib/graph/T.ts and the eager op modules a
//    second time, internal helpers included; those module copies are dropped (their functions are
//    documented where the package exports them: st.*, T.*).
import ts from 'typescript';
import { Converter, ReflectionKind } from 'typedoc';

const DECLARATION_FLAGS =
  ts.SymbolFlags.Class | ts.SymbolFlags.Function | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias |
  ts.SymbolFlags.Enum | ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule;

function originOf(symbol, checker) {
  let origin = symbol?.links?.syntheticOrigin;
  while (origin?.links?.syntheticOrigin) origin = origin.links.syntheticOrigin;
  if (!origin) return undefined;
  // An object rest (`const { factories, ...rest } = module`) copies properties into new symbols
  // that keep only the declarations: go back to the declared symbol.
  const declName = origin.flags & ts.SymbolFlags.Transient ? origin.declarations?.[0]?.name : undefined;
  if (declName) origin = checker.getSymbolAtLocation(declName) ?? origin;
  const target = origin.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(origin) : origin;
  return target.flags & DECLARATION_FLAGS ? { origin, target } : undefined;
}

/** A converter context whose scope is refl (TypeDoc wants each scope entered from its parent's). */
function scopeOf(context, refl) {
  return refl.parent && !refl.parent.isProject() ? scopeOf(context, refl.parent).withScope(refl) : context.withScope(refl);
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  // The program is only active while source files convert; keep it for the pass at resolve time.
  let program;
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context) => {
    program ??= context.program;
  });
  // 1. Before anything else resolves: comments, groups, and the missing-exports plugin's search.
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    if (!program) return;
    context.setActiveProgram(program);
    const { project, checker } = context;
    for (const ns of project.getReflectionsByKind(ReflectionKind.Namespace)) {
      const nsSymbol = context.getSymbolFromReflection(ns);
      if (!nsSymbol || !(nsSymbol.flags & ts.SymbolFlags.Variable)) continue;
      const scope = scopeOf(context, ns);
      // The synthetic property shares its declaration, hence its symbol id, with the class: without
      // this, TypeDoc would find the property's reflection and document the class as a reference.
      scope.getReflectionFromSymbol = () => undefined;
      for (const child of [...(ns.children ?? [])]) {
        const found = originOf(context.getSymbolFromReflection(child), checker);
        if (!found) continue;
        project.removeReflection(child);
        // The aliased declaration, under the name it has in the namespace.
        app.converter.convertSymbol(scope, found.target, found.origin);
      }
    }
    context.setActiveProgram(undefined);
  }, 2e9); // typedoc-plugin-missing-exports searches at 1e9

  // 2. The module copies that missing-exports placed in its internal module.
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const internal = app.options.getValue('internalModule');
    const holder = context.project.children?.find((c) => c.name === internal);
    for (const child of [...(holder?.children ?? [])]) {
      const symbol = context.getSymbolFromReflection(child);
      if (child.kindOf(ReflectionKind.SomeModule) && symbol?.declarations?.some(ts.isSourceFile)) context.project.removeReflection(child);
    }
  }, 5e8); // after typedoc-plugin-missing-exports (1e9), before the comments resolve (0)
}
