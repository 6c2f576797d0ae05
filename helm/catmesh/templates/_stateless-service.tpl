{{/*
A stateless catmesh service: a Deployment and its ClusterIP Service. Arguments: root, component
(the service's name, also its folder under services/), values (its block of values.yaml),
replicas, env (its own variables, a YAML list).
*/}}
{{- define "catmesh.statelessService" -}}
{{- $name := include "catmesh.name" . -}}
{{- $ports := .values.ports -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "catmesh.labels" . | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  selector:
    matchLabels:
      {{- include "catmesh.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "catmesh.labels" . | nindent 8 }}
      {{- with include "catmesh.podAnnotations" (dict "root" .root "port" $ports.metrics) }}
      {{- . | nindent 6 }}
      {{- end }}
    spec:
      {{- include "catmesh.podCommon" .root | nindent 6 }}
      containers:
        - name: {{ .component }}
          image: {{ include "catmesh.image" .root }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          workingDir: /app
          command: [node]
          args: [services/{{ .component }}/dist/main.js]
          env:
            {{- include "catmesh.serviceEnv" (dict "root" .root "service" .component "ports" $ports "workloadKind" "deployment" "workloadName" $name) | nindent 12 }}
            {{- .env | nindent 12 }}
          ports:
            {{- include "catmesh.servicePorts" $ports | nindent 12 }}
          {{- include "catmesh.grpcProbes" $ports | nindent 10 }}
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          securityContext:
            {{- include "catmesh.containerSecurityContext" .root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: { sizeLimit: 64Mi }
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "catmesh.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "catmesh.selectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $ports.grpc }}
      targetPort: grpc
      appProtocol: grpc
    - name: metrics
      port: {{ $ports.metrics }}
      targetPort: metrics
    # The fault admin API, for the dashboard's reads of the faults in force (the chaos
    # controller reaches each pod by its own address); the NetworkPolicies say who may connect.
    - name: admin
      port: {{ $ports.admin }}
      targetPort: admin
      appProtocol: grpc
{{- end -}}
