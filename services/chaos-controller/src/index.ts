// @catmesh/chaos-controller: ChaosExperiment resources run through the Kubernetes API. The
// process is main.ts; this is what others reuse: the controller itself (for tests that run it
// in-process), the mesh through the API (the chart rehearsal's NetworkPolicy partitions are
// made by it) and how a pod is read as a mesh instance (the chart rehearsal reads its pods so).

export type { ControllerOptions } from './controller.js';
export { runController } from './controller.js';
export type { KubeApis } from './kube-apis.js';
export { kubeApis } from './kube-apis.js';
export type { KubernetesMeshOptions } from './kubernetes-mesh.js';
export { KubernetesMesh } from './kubernetes-mesh.js';
export { FINALIZER, FORCE_CLEAN_ANNOTATION, TIME_SCALE_ANNOTATION } from './experiment-resource.js';
export { reportConfigMapName } from './experiment-api.js';
export { labelValue } from './partition-objects.js';
export type { PodAddressing } from './pod-instances.js';
export { meshInstanceOf, podInstance, SERVICE_LABEL } from './pod-instances.js';
