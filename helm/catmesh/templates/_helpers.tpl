{{/* Names: every object is "<release>-<component>", e.g. catmesh-cat-feeder. */}}
{{- define "catmesh.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "catmesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The labels a selector uses: they never change after install. */}}
{{- define "catmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The standard labels of every object. */}}
{{- define "catmesh.labels" -}}
{{ include "catmesh.selectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: catmesh
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "catmesh.chart" .root }}
{{- end -}}

{{- define "catmesh.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* A headless-Service address of one cat-feeder replica: stable across rescheduling. */}}
{{- define "catmesh.catFeederHost" -}}
{{- $name := include "catmesh.name" (dict "root" .root "component" "cat-feeder") -}}
{{- printf "%s-%d.%s-headless.%s.svc.%s" $name (int .ordinal) $name .root.Release.Namespace .root.Values.clusterDomain -}}
{{- end -}}

{{/* CATMESH_CATFEEDER_ENDPOINTS: every replica, so a client fails over replica by replica. */}}
{{- define "catmesh.catFeederEndpoints" -}}
{{- $root := . -}}
{{- $endpoints := list -}}
{{- range $i := until (int .Values.catFeeder.replicas) -}}
{{- $endpoints = append $endpoints (printf "%s:%d" (include "catmesh.catFeederHost" (dict "root" $root "ordinal" $i)) (int $root.Values.catFeeder.ports.grpc)) -}}
{{- end -}}
{{- join "," $endpoints -}}
{{- end -}}

{{- define "catmesh.natsUrl" -}}
{{- printf "nats://%s:%d" (include "catmesh.name" (dict "root" . "component" "nats")) (int .Values.nats.ports.client) -}}
{{- end -}}

{{- define "catmesh.endpoint" -}}
{{- printf "%s:%d" (include "catmesh.name" (dict "root" .root "component" .component)) (int .port) -}}
{{- end -}}

{{/* Pod-level security of every pod: Pod Security "restricted". */}}
{{- define "catmesh.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security of every container. */}}
{{- define "catmesh.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The pod annotations Prometheus' kubernetes_sd scrape config looks for; none when off. */}}
{{- define "catmesh.podAnnotations" -}}
{{- if .root.Values.metrics.annotations -}}
annotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .port | quote }}
  prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/*
The environment every catmesh service reads (packages/runtime's service config), plus the
downward API's pod identity for the k8s.* resource attributes of its traces.
*/}}
{{- define "catmesh.serviceEnv" -}}
{{- $v := .root.Values -}}
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: POD_UID
  valueFrom: { fieldRef: { fieldPath: metadata.uid } }
- name: NODE_NAME
  valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
- name: CATMESH_SERVICE_NAME
  value: {{ .service }}
- name: CATMESH_SERVICE_VERSION
  value: {{ .root.Chart.AppVersion | quote }}
- name: CATMESH_INSTANCE_ID
  value: $(POD_NAME)
{{- /* The chaos controller serves no gRPC and no fault admin API: it has a metrics port only. */}}
{{- with .ports.grpc }}
- name: CATMESH_GRPC_PORT
  value: {{ . | quote }}
{{- end }}
- name: CATMESH_METRICS_PORT
  value: {{ .ports.metrics | quote }}
{{- with .ports.admin }}
- name: CATMESH_ADMIN_PORT
  value: {{ . | quote }}
{{- end }}
- name: CATMESH_LOG_LEVEL
  value: {{ $v.logLevel }}
- name: CATMESH_SHUTDOWN_GRACE
  value: {{ printf "%ds" (int $v.shutdown.graceSeconds) }}
{{- if $v.tracing.enabled }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ printf "http://%s:%d" (include "catmesh.name" (dict "root" .root "component" "jaeger")) (int $v.jaeger.ports.otlpHttp) }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),k8s.pod.uid=$(POD_UID),k8s.node.name=$(NODE_NAME),k8s.%s.name=%s" .workloadKind .workloadName }}
{{- /* A copy of every span to the dashboard's receiver (its page port), for its traces panel;
not for the chaos controller, which starts no tracing (and has no edge to the dashboard). */}}
{{- if and $v.dashboard.enabled (ne .service "chaos-controller") }}
- name: CATMESH_OTLP_DASHBOARD_ENDPOINT
  value: {{ printf "http://%s:%d" (include "catmesh.name" (dict "root" .root "component" "dashboard")) (int $v.dashboard.ports.page) }}
{{- end }}
{{- else }}
- name: OTEL_SDK_DISABLED
  value: "true"
{{- end }}
{{- end -}}

{{/* The container ports and native gRPC probes of a catmesh service. */}}
{{- define "catmesh.servicePorts" -}}
- name: grpc
  containerPort: {{ .grpc }}
- name: metrics
  containerPort: {{ .metrics }}
- name: admin
  containerPort: {{ .admin }}
{{- with .raft }}
- name: raft
  containerPort: {{ . }}
{{- end }}
{{- end -}}

{{/*
grpc.health.v1 probes on the gRPC port. Startup allows a slow first start (a replica replaying
its log); readiness takes a pod out of its Services quickly; liveness restarts only a pod that
has stopped answering for half a minute.
*/}}
{{- define "catmesh.grpcProbes" -}}
startupProbe:
  grpc: { port: {{ .grpc }} }
  periodSeconds: 2
  failureThreshold: 60
readinessProbe:
  grpc: { port: {{ .grpc }} }
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  grpc: { port: {{ .grpc }} }
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{/*
The pod spec fields every catmesh workload shares, with no service account token: only the chaos
controller talks to the Kubernetes API, and it takes catmesh.podShared and an account of its own.
*/}}
{{- define "catmesh.podCommon" -}}
automountServiceAccountToken: false
{{ include "catmesh.podShared" . }}
{{- end -}}

{{/* catmesh.podCommon but the service account token. */}}
{{- define "catmesh.podShared" -}}
enableServiceLinks: false
terminationGracePeriodSeconds: {{ add .Values.shutdown.graceSeconds .Values.shutdown.marginSeconds }}
securityContext:
  {{- include "catmesh.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
The workloads this release deploys and their named container ports, as YAML: what the network
policies may name. Keep in step with the templates' `ports:` lists.
*/}}
{{- define "catmesh.workloadPorts" -}}
nats: [client, monitor]
cat-feeder: [grpc, metrics, admin, raft]
inventory: [grpc, metrics, admin]
orders: [grpc, metrics, admin]
{{- if .Values.loadgen.enabled }}
loadgen: [grpc, metrics, admin]
{{- end }}
{{- if .Values.tracing.enabled }}
jaeger: [otlp-grpc, otlp-http, ui, health]
{{- end }}
{{- if .Values.chaosController.enabled }}
chaos-controller: [metrics]
{{- end }}
{{- if .Values.dashboard.enabled }}
dashboard: [page, metrics]
{{- end }}
test-place-order: []
{{- end -}}

{{- /* An allow policy's pods exclude those a chaos experiment has partitioned (see @catmesh/netpol's partition.ts). */ -}}
{{- define "catmesh.notPartitioned" -}}
matchExpressions:
  - { key: chaos.catmesh.dev/partition, operator: DoesNotExist }
{{- end }}
