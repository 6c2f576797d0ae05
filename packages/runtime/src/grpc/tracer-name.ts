/** The instrumentation scope of every span the runtime kit starts. */
export const TRACER_NAME = '@catmesh/runtime';
