{{/* Names, labels and the computed settings shared by the templates. */}}

{{- define "portico.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "portico.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "portico.instanceLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Portico's pods (the bundled Redis's are component "store"). */}}
{{- define "portico.selectorLabels" -}}
{{ include "portico.instanceLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "portico.redisSelectorLabels" -}}
{{ include "portico.instanceLabels" . }}
app.kubernetes.io/component: store
{{- end }}

{{- define "portico.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "portico.instanceLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The Secret the frontend reads its secret settings from. */}}
{{- define "portico.secretName" -}}
{{- default (include "portico.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The socket both containers use. */}}
{{- define "portico.socket" -}}
{{- printf "%s/sidecar.sock" (trimSuffix "/" .Values.socketDir) }}
{{- end }}

{{/* The bundled Redis's URL. */}}
{{- define "portico.redisUrl" -}}
{{- printf "redis://%s-redis:6379/0" (include "portico.fullname" .) }}
{{- end }}

{{/* Seconds the sidecar waits after the pod is asked to stop, before it gets SIGTERM: the
frontend's pre-stop wait plus its drain plus 5 s, so the frontend stops taking requests and
finishes its streams while the engine still runs. */}}
{{- define "portico.sidecarPreStop" -}}
{{- add .Values.frontend.preStopSleepSeconds .Values.frontend.drainSeconds 5 }}
{{- end }}

{{- define "portico.terminationGrace" -}}
{{- if .Values.terminationGracePeriodSeconds }}
{{- .Values.terminationGracePeriodSeconds }}
{{- else }}
{{- add (include "portico.sidecarPreStop" . | atoi) .Values.inference.drainSeconds 15 }}
{{- end }}
{{- end }}

{{/* Several workers or pods need one shared store: refuse to render without one. */}}
{{- define "portico.checkStore" -}}
{{- $shared := or .Values.store.url .Values.redis.enabled .Values.secrets.existingSecret }}
{{- $many := or (gt (int .Values.frontend.workers) 1) (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled }}
{{- if and $many (not $shared) }}
{{- fail "portico: several workers or pods need a shared response store: set store.url to a Redis URL, or redis.enabled=true" }}
{{- end }}
{{- if and .Values.store.url .Values.redis.enabled }}
{{- fail "portico: set store.url or redis.enabled, not both" }}
{{- end }}
{{- end }}
